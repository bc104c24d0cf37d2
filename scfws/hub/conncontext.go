package hub

import (
	"context"
	"errors"
	"time"

	"github.com/scfws/scfws-go/scfws"
)

// touchEvery is how stale a connection's LastActive may get before an event
// restarts its expiry: at most one Touch a minute per connection.
const touchEvery = time.Minute

type connKey struct{}

// ConnFrom returns the stored connection that [Hub.OnMessage] or
// [Hub.OnClose] put in ctx: its user, meta, subprotocol and rooms as the
// event arrived. False when the store did not hold it (never registered,
// expired, or pruned).
func ConnFrom(ctx context.Context) (Conn, bool) {
	c, ok := ctx.Value(connKey{}).(Conn)
	return c, ok
}

// OnMessage wraps a transmission function: before fn runs, the sender's
// stored connection is loaded (one Store.Get, one round trip) and put in ctx
// (see [ConnFrom]), and its expiry restarted when it was last touched over a
// minute ago (a second round trip, at most once a minute per connection;
// LastActive is that precise). A connection the store no longer holds
// leaves ctx without one, and fn decides (store it again, say). A store
// error fails the invocation.
func (h *Hub) OnMessage(fn scfws.TransmissionFunc) scfws.TransmissionFunc {
	return func(ctx context.Context, ev *scfws.TransmissionEvent) error {
		ctx, err := h.withConn(ctx, ev.ConnectionID(), true)
		if err != nil {
			return err
		}
		return fn(ctx, ev)
	}
}

// OnClose wraps a cleanup function: the leaving connection is loaded into
// ctx as by [Hub.OnMessage] (so fn still sees its rooms and meta), removed
// from the store as [Hub.Cleanup] does — before fn runs, so that what fn
// counts or sends no longer includes it — then fn runs. The removal happens
// whatever fn does (fails, panics) and even when loading failed (fn then
// runs without the connection in ctx); the cleanup function is never
// retried, so nothing is left to a second chance. A nil fn only removes it.
// The error joins the load's, the removal's and fn's.
func (h *Hub) OnClose(fn scfws.CleanupFunc) scfws.CleanupFunc {
	return func(ctx context.Context, ev *scfws.CleanupEvent) error {
		cctx, lerr := h.withConn(ctx, ev.ConnectionID(), false)
		rerr := h.Cleanup(ctx, ev)
		var ferr error
		if fn != nil {
			ferr = fn(cctx, ev)
		}
		return errors.Join(lerr, rerr, ferr)
	}
}

func (h *Hub) withConn(ctx context.Context, id string, touch bool) (context.Context, error) {
	c, err := h.store.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return ctx, nil
	}
	if err != nil {
		return ctx, err
	}
	if touch && time.Since(c.LastActive) > touchEvery {
		if err := h.store.Touch(ctx, id); err != nil && !errors.Is(err, ErrNotFound) {
			return ctx, err
		}
	}
	return context.WithValue(ctx, connKey{}, c), nil
}
