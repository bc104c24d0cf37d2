package hub

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/scfws/scfws-go/scfws"
)

// closeConcurrency is how many closing pushes CloseUser and CloseRoom have
// in flight.
const closeConcurrency = 32

// CloseUser closes every connection of the user: a closing push to each
// (the gateway runs no cleanup for closes the server starts), then its
// removal from the store, whatever the push answered. The error is nil when
// every push succeeded; the store's error when the user's connections could
// not be listed; else a *scfws.BroadcastError whose Failed has each failed
// push (joined with the store's error when its removal failed too) and
// whose Pruned lists the connections removed.
func (h *Hub) CloseUser(ctx context.Context, userID string) error {
	ids, err := h.store.UserConns(ctx, userID)
	if err != nil {
		return err
	}
	return h.closeAll(ctx, ids)
}

// CloseRoom closes every connection in the room, with the answers of
// [Hub.CloseUser].
func (h *Hub) CloseRoom(ctx context.Context, room string) error {
	ids, err := h.store.Members(ctx, room)
	if err != nil {
		return err
	}
	return h.closeAll(ctx, ids)
}

func (h *Hub) closeAll(ctx context.Context, ids []string) error {
	var (
		mu     sync.Mutex
		failed map[string]error
		pruned []string
		next   atomic.Int64
		wg     sync.WaitGroup
	)
	for range min(closeConcurrency, len(ids)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(ids); i = int(next.Add(1) - 1) {
				id := ids[i]
				perr := h.push.Disconnect(ctx, id)
				removed, serr := h.forget(ctx, id)
				mu.Lock()
				if removed {
					pruned = append(pruned, id)
				}
				if err := errors.Join(perr, serr); err != nil {
					if failed == nil {
						failed = map[string]error{}
					}
					failed[id] = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(failed) == 0 {
		return nil
	}
	return &scfws.BroadcastError{Failed: failed, Sent: len(ids) - len(failed), Pruned: pruned}
}
