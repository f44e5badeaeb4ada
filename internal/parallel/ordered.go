package parallel

import (
	"runtime"
	"sync"
)

// Ordered calls f on each item next yields, on up to GOMAXPROCS goroutines,
// and emit with the results in the items' order, each as soon as it and
// every earlier one are done. next is called from one goroutine, in turn,
// and returns ok false after the last item; emit is called from the
// caller's goroutine. At most window+1 items are taken from next and not
// yet emitted, which bounds the memory a long input holds.
//
// The first error of next or emit stops taking items; Ordered waits for
// the calls of f under way and returns it (an error of emit first). The
// results before an error of next are all emitted.
func Ordered[T, U any](window int, next func() (T, bool, error), f func(T) U, emit func(U) error) error {
	window = max(window, 2)
	type job struct {
		item T
		out  chan U
	}
	jobs := make(chan job)
	// In flight: the one emit waits for, window-1 queued, one taken by the
	// producer and waiting for room.
	queue := make(chan chan U, window-1)
	stop := make(chan struct{})
	var workers sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for j := range jobs {
				j.out <- f(j.item) // buffered: never blocks
			}
		}()
	}
	var nextErr error
	producer := make(chan struct{})
	go func() {
		defer close(producer)
		defer close(queue)
		defer close(jobs)
		for {
			item, ok, err := next()
			if err != nil {
				nextErr = err
				return
			}
			if !ok {
				return
			}
			out := make(chan U, 1)
			select {
			case queue <- out: // blocks while window items are in flight
			case <-stop:
				return
			}
			select {
			case jobs <- job{item, out}:
			case <-stop:
				return
			}
		}
	}()
	var emitErr error
	for out := range queue {
		if emitErr = emit(<-out); emitErr != nil {
			close(stop)
			break
		}
	}
	<-producer
	workers.Wait()
	if emitErr != nil {
		return emitErr
	}
	return nextErr
}

// Items returns a next function for Ordered that yields items in order.
func Items[T any](items []T) func() (T, bool, error) {
	i := 0
	return func() (T, bool, error) {
		if i == len(items) {
			var zero T
			return zero, false, nil
		}
		i++
		return items[i-1], true, nil
	}
}
