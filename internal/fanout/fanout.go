// Package fanout is the one bounded worker loop of scfws: a broadcast's
// pushes (scfws.PushClient.Broadcast) and a hub's closing pushes
// (hub.Hub.CloseUser, CloseRoom) go through it.
package fanout

import (
	"context"
	"sync"
	"sync/atomic"
)

// Each calls fn for each of ids, at most n at once, starting them in order.
// Once ctx ends it starts no more; it returns the ids it never started.
func Each(ctx context.Context, n int, ids []string, fn func(id string)) (notStarted []string) {
	var (
		next atomic.Int64 // the index of the next ID
		wg   sync.WaitGroup
	)
	for range min(n, len(ids)) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(ids) {
					return
				}
				fn(ids[i])
			}
		})
	}
	wg.Wait()
	return ids[min(int(next.Load()), len(ids)):]
}
