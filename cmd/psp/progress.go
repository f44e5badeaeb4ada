package main

import (
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"
)

// progress reports "checked N/M workloads" ("checked N workloads" while M
// is not known) on stderr once a scan has run
// for a second, if stderr is a terminal; it never writes into pipes or CI logs.
type progress struct {
	w           io.Writer
	done, total atomic.Int64
	stop        chan struct{}
	finished    chan struct{}
}

func startProgress(stderr io.Writer) *progress {
	p := &progress{w: stderr, stop: make(chan struct{}), finished: make(chan struct{})}
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

func (p *progress) update(done, total int) {
	p.done.Store(int64(done))
	p.total.Store(int64(total))
}

// finish stops reporting and clears the line.
func (p *progress) finish() {
	select {
	case <-p.finished:
	default:
		close(p.stop)
		<-p.finished
	}
}
