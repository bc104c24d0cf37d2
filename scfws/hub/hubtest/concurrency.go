package hubtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scfws/scfws-go/scfws/hub"
)

// testConcurrency: goroutines add, join, leave and remove their own
// connections in shared rooms at once; afterwards each room lists exactly
// the connections whose last operation left them in it.
func testConcurrency(t *testing.T, s hub.Store) {
	ctx := context.Background()
	const workers, perWorker = 8, 25
	rooms := []string{"r0", "r1", "r2"}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		want   = map[string][]string{}
		errs   []error
		record = func(err error) {
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}
	)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				id := fmt.Sprintf("w%d+c%d/=", w, i)
				record(s.Add(ctx, hub.Conn{ID: id, UserID: fmt.Sprint("user", w)}))
				for _, r := range rooms {
					record(s.Join(ctx, id, r))
				}
				switch i % 3 {
				case 0: // stays everywhere
					mu.Lock()
					for _, r := range rooms {
						want[r] = append(want[r], id)
					}
					mu.Unlock()
				case 1: // leaves r1
					record(s.Leave(ctx, id, "r1"))
					mu.Lock()
					want["r0"] = append(want["r0"], id)
					want["r2"] = append(want["r2"], id)
					mu.Unlock()
				case 2: // removed
					record(s.Remove(ctx, id))
				}
			}
		})
	}
	wg.Wait()
	require.Empty(t, errs)
	for _, r := range rooms {
		assertSame(t, want[r], must(t)(s.Members(ctx, r)), r)
	}
	for w := range workers {
		conns := must(t)(s.UserConns(ctx, fmt.Sprint("user", w)))
		assert.Len(t, conns, perWorker-perWorker/3, "user%d", w)
	}
}

// testJoinRacesRemove: a connection removed while it is joining rooms
// (cleanup racing a message) is not left behind as a phantom member.
func testJoinRacesRemove(t *testing.T, s hub.Store) {
	ctx := context.Background()
	const conns, joiners, rooms = 100, 4, 4
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for i := range conns {
		id := fmt.Sprintf("race%d+/=", i)
		require.NoError(t, s.Add(ctx, hub.Conn{ID: id, UserID: "racer"}))
		for j := range joiners {
			wg.Go(func() {
				for k := 0; ; k++ {
					err := s.Join(ctx, id, fmt.Sprint("room", (j+k)%rooms))
					if errors.Is(err, hub.ErrNotFound) {
						return // removed: joining must now fail
					}
					if err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
						return
					}
				}
			})
		}
		wg.Go(func() {
			time.Sleep(time.Duration(i%5) * time.Millisecond)
			if err := s.Remove(ctx, id); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Empty(t, errs)
	for j := range rooms {
		assertSame(t, nil, must(t)(s.Members(ctx, fmt.Sprint("room", j))), "room%d", j)
	}
	assertSame(t, nil, must(t)(s.UserConns(ctx, "racer")))
}
