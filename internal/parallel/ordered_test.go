package parallel

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// counter yields 0..n-1, counting the items taken.
func counter(n int, taken *atomic.Int64) func() (int, bool, error) {
	return func() (int, bool, error) {
		i := int(taken.Load())
		if i >= n {
			return 0, false, nil
		}
		taken.Add(1)
		return i, true, nil
	}
}

func TestOrderedEmitsInOrder(t *testing.T) {
	for _, n := range []int{0, 1, 7, 1000} {
		var taken atomic.Int64
		var got []int
		// Later items finish first: the order is the input's anyway.
		err := Ordered(8, counter(n, &taken), func(i int) int {
			if i%3 == 0 {
				time.Sleep(time.Millisecond)
			}
			return i * 2
		}, func(v int) error {
			got = append(got, v)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != n {
			t.Fatalf("n=%d: %d results", n, len(got))
		}
		for i, v := range got {
			if v != i*2 {
				t.Fatalf("n=%d: result %d is %d", n, i, v)
			}
		}
	}
}

// TestOrderedIsBounded: while the first item's result is held up (until
// taking items has stalled), at most window+1 items are taken from next.
func TestOrderedIsBounded(t *testing.T) {
	const window, n = 4, 100
	var taken atomic.Int64
	held := int64(0)
	err := Ordered(window, counter(n, &taken), func(i int) int {
		if i == 0 {
			// Hold the first result until no item has been taken for 50ms.
			for last := int64(-1); taken.Load() != last; time.Sleep(50 * time.Millisecond) {
				last = taken.Load()
			}
			held = taken.Load()
		}
		return i
	}, func(int) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if held > window+1 || held < window {
		t.Errorf("%d items taken while the first was held, want %d or %d", held, window, window+1)
	}
}

func TestOrderedStopsAtErrors(t *testing.T) {
	var taken atomic.Int64
	boom := errors.New("boom")
	emitted := 0
	err := Ordered(4, counter(1000, &taken), func(i int) int { return i }, func(v int) error {
		emitted++
		if v == 10 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || emitted != 11 || taken.Load() > 10+4+1+1 {
		t.Errorf("err %v, %d emitted, %d taken", err, emitted, taken.Load())
	}
	bad := errors.New("unreadable")
	emitted = 0
	i := 0
	err = Ordered(4, func() (int, bool, error) {
		if i == 5 {
			return 0, false, bad
		}
		i++
		return i, true, nil
	}, func(i int) int { return i }, func(int) error { emitted++; return nil })
	if !errors.Is(err, bad) || emitted != 5 {
		t.Errorf("err %v, %d emitted", err, emitted)
	}
}
