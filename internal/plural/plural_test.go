package plural

import "testing"

func TestCount(t *testing.T) {
	for n, want := range map[int]string{0: "0 workloads", 1: "1 workload", 2: "2 workloads", 60000: "60000 workloads"} {
		if got := Count(n, "workload"); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
}
