package progress

import (
	"bytes"
	"os"
	"testing"
)

// TestNotATerminal: into a buffer, a pipe or a file, nothing is written,
// and Finish returns at once, twice.
func TestNotATerminal(t *testing.T) {
	var b bytes.Buffer
	p := Start(&b)
	p.Update(1, 2)
	p.Finish()
	p.Finish()
	if b.Len() != 0 {
		t.Errorf("wrote %q", b.String())
	}
	f, err := os.Create(t.TempDir() + "/stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p = Start(f)
	p.Update(1, 2)
	p.Finish()
	if st, err := f.Stat(); err != nil || st.Size() != 0 {
		t.Errorf("wrote %d bytes into a file (%v)", st.Size(), err)
	}
}
