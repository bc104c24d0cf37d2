package fanout

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestEachBoundsAndStops(t *testing.T) {
	ids := make([]string, 200)
	for i := range ids {
		ids[i] = string(rune('a' + i%26))
	}
	var running, most atomic.Int64
	var mu sync.Mutex
	seen := 0
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rest := Each(ctx, 8, ids, func(string) {
		n := running.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(time.Millisecond)
		running.Add(-1)
		mu.Lock()
		if seen++; seen == 50 {
			cancel()
		}
		mu.Unlock()
	})
	if m := most.Load(); m > 8 {
		t.Fatalf("%d at once, bound 8", m)
	}
	if seen+len(rest) != len(ids) {
		t.Fatalf("%d run and %d not started of %d", seen, len(rest), len(ids))
	}
	if len(rest) == 0 || seen > 50+8 {
		t.Fatalf("went on after ctx ended: %d run", seen)
	}
	if got := Each(context.Background(), 4, ids[:3], func(string) {}); len(got) != 0 {
		t.Fatalf("not started: %v", got)
	}
}
