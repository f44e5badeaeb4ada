// Package progress shows how far a long scan has got on a terminal:
// "checked N/M workloads" on stderr, rewritten in place once a second.
package progress

import (
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"
)

// Reporter reports "checked N/M workloads" ("checked N workloads" while M
// is not known) on stderr once a scan has run for a second, if stderr is a
// terminal; it never writes into pipes or CI logs.
type Reporter struct {
	w           io.Writer
	done, total atomic.Int64
	stop        chan struct{}
	finished    chan struct{}
}

// Start starts reporting on stderr; call Finish when the scan ends.
func Start(stderr io.Writer) *Reporter {
	p := &Reporter{w: stderr, stop: make(chan struct{}), finished: make(chan struct{})}
	f, ok := stderr.(*os.File)
	if !ok {
		close(p.finished)
		return p
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		close(p.finished)
		return p
	}
	go func() {
		defer close(p.finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		shown := false
		for {
			select {
			case <-p.stop:
				if shown {
					fmt.Fprint(p.w, "\r\033[K")
				}
				return
			case <-t.C:
				if total := p.total.Load(); total > 0 {
					fmt.Fprintf(p.w, "\rchecked %d/%d workloads", p.done.Load(), total)
				} else {
					fmt.Fprintf(p.w, "\rchecked %d workloads", p.done.Load())
				}
				shown = true
			}
		}
	}()
	return p
}

// Update records that done of total workloads are checked; it may be
// called from any goroutine.
func (p *Reporter) Update(done, total int) {
	p.done.Store(int64(done))
	p.total.Store(int64(total))
}

// Finish stops reporting and clears the line; it may be called again.
func (p *Reporter) Finish() {
	select {
	case <-p.finished:
	default:
		close(p.stop)
		<-p.finished
	}
}
