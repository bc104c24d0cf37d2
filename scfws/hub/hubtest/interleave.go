package hubtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scfws/scfws-go/scfws/hub"
)

// testInterleaving: goroutines join and leave the same connections to the
// same rooms at once (two quick messages from one client), some replace
// the connection meanwhile (Add), others touch it. Whatever the
// interleaving, afterwards a connection is in a room's members exactly when
// the room is in its rooms, and once every connection is removed no room
// has a member left: none lost, none invented.
func testInterleaving(t *testing.T, s hub.Store) {
	ctx := context.Background()
	const conns, workers, ops = 40, 4, 30
	rooms := []string{"r0", "r1", "r2"}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	record := func(err error) {
		if err != nil {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}
	}
	ids := make([]string, conns)
	for i := range ids {
		ids[i] = fmt.Sprintf("il%d+/=", i)
		require.NoError(t, s.Add(ctx, hub.Conn{ID: ids[i], UserID: "u"}))
	}
	for _, id := range ids {
		for w := range workers {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(len(id)), uint64(w)))
				for range ops {
					room := rooms[r.IntN(len(rooms))]
					switch n := r.IntN(10); {
					case n < 4:
						record(s.Join(ctx, id, room))
					case n < 8:
						record(s.Leave(ctx, id, room))
					case n < 9:
						record(s.Touch(ctx, id))
					default:
						record(s.Add(ctx, hub.Conn{ID: id, UserID: "u"}))
					}
				}
			})
		}
	}
	wg.Wait()
	require.Empty(t, errs)

	members := map[string][]string{}
	for _, r := range rooms {
		members[r] = must(t)(s.Members(ctx, r))
	}
	for _, id := range ids {
		joined := must(t)(s.Rooms(ctx, id))
		for _, r := range rooms {
			assert.Equal(t, slices.Contains(joined, r), slices.Contains(members[r], id),
				"%s in %s: its rooms say %v, the room's members %v", id, r, joined, slices.Contains(members[r], id))
		}
	}
	assertSame(t, ids, must(t)(s.UserConns(ctx, "u")))

	for _, id := range ids {
		require.NoError(t, s.Remove(ctx, id))
	}
	for _, r := range rooms {
		assertSame(t, nil, must(t)(s.Members(ctx, r)), "no phantom member in %s", r)
	}
	assertSame(t, nil, must(t)(s.UserConns(ctx, "u")))
}
