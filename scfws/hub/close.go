package hub

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/scfws/scfws-go/internal/fanout"
	"github.com/scfws/scfws-go/scfws"
)

// closeConcurrency is how many closing pushes CloseUser and CloseRoom have
// in flight.
const closeConcurrency = 32

// CloseUser closes every connection of the user: a closing push to each,
// at most 32 at once (the gateway runs no cleanup for closes the server
// starts), and the removal from the store of each connection that is now
// closed or was already gone (the push succeeded, or was refused). A
// connection whose push got no answer, or that was not tried because ctx
// ended, may still be open: it stays. The error is nil when every push
// succeeded and every removal too; the store's error when the user's
// connections could not be listed; else a *scfws.BroadcastError whose
// Failed has each push that did not succeed (Sent counts those that did)
// and whose Pruned lists the connections removed, joined with the store's
// error for each removal that failed.
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
		mu       sync.Mutex
		failed   map[string]error
		pruned   []string
		storeErr []error
	)
	fail := func(id string, err error) {
		mu.Lock()
		defer mu.Unlock()
		if failed == nil {
			failed = map[string]error{}
		}
		failed[id] = err
	}
	for _, id := range fanout.Each(ctx, closeConcurrency, ids, func(id string) {
		perr := h.push.Disconnect(ctx, id)
		if perr != nil {
			fail(id, perr)
			if !errors.Is(perr, scfws.ErrPushRefused) {
				return // no answer: it may still be open
			}
		}
		removed, serr := h.forget(ctx, id)
		mu.Lock()
		defer mu.Unlock()
		if removed {
			pruned = append(pruned, id)
		}
		if serr != nil {
			storeErr = append(storeErr, fmt.Errorf("hub: removing %q: %w", id, serr))
		}
	}) {
		fail(id, &scfws.PushError{ConnectionID: id, Err: ctx.Err()})
	}
	var be error
	if len(failed) > 0 {
		be = &scfws.BroadcastError{Failed: failed, Sent: len(ids) - len(failed), Pruned: pruned}
	}
	return errors.Join(append([]error{be}, storeErr...)...)
}
