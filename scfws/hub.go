package scfws

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"
)

// HubOptions configures a [Hub]. A nil *HubOptions means the zero value.
type HubOptions struct {
	// ShouldPrune decides whether a failed push removes that connection
	// from the store. Nil: prune exactly the pushes the gateway refused
	// ([ErrPushRefused]: it has dropped that client), never transient
	// failures or timeouts. To never prune, return false.
	ShouldPrune func(err error) bool
	// Logger receives a line per pruned connection and per store error
	// while pruning. Nil: no logging.
	Logger *slog.Logger
}

// Hub sends to rooms and users: it lists the connections in a [Store] and
// pushes with a [PushClient], and removes from the store every connection
// whose push shows it is gone. A Hub is safe for concurrent use.
type Hub struct {
	store Store
	push  *PushClient
	opts  HubOptions
}

// NewHub returns a Hub over store and push. opts may be nil.
func NewHub(store Store, push *PushClient, opts *HubOptions) *Hub {
	h := &Hub{store: store, push: push}
	if opts != nil {
		h.opts = *opts
	}
	if h.opts.ShouldPrune == nil {
		h.opts.ShouldPrune = func(err error) bool { return errors.Is(err, ErrPushRefused) }
	}
	return h
}

// Store returns the hub's store.
func (h *Hub) Store() Store { return h.store }

// Push returns the hub's push client.
func (h *Hub) Push() *PushClient { return h.push }

// Delivery is the outcome of a send to many connections.
type Delivery struct {
	// Delivered, Failed and Pruned count connections: Failed pushes whose
	// connection was removed from the store are counted in Pruned too.
	Delivered, Failed, Pruned int
	// Errors maps each failed connection ID to its error (a *PushError).
	Errors map[string]error
}

// Err returns nil when every push was delivered, else a *BroadcastError.
func (d Delivery) Err() error {
	if d.Failed == 0 {
		return nil
	}
	return &BroadcastError{Failed: d.Errors, Sent: d.Delivered}
}

// Register stores the connection of a register event: its ID, userID
// (may be ""), the negotiated subprotocol, the source IP, now, and meta.
// Call it from your RegisterFunc; an error refuses the connection there.
func (h *Hub) Register(ctx context.Context, ev *RegisterEvent, userID string, meta map[string]string) error {
	c := Conn{
		ID: ev.ConnectionID(), UserID: userID, Subprotocol: ev.Negotiated.Subprotocol,
		ConnectedAt: time.Now(), Meta: meta,
	}
	if ev.RequestContext != nil {
		c.SourceIP = ev.RequestContext.SourceIP
	}
	return h.store.Add(ctx, c)
}

// Cleanup removes the connection of a cleanup event. A connection the store
// no longer holds (expired, pruned, removed twice) is no error.
func (h *Hub) Cleanup(ctx context.Context, ev *CleanupEvent) error {
	return h.forget(ctx, ev.ConnectionID())
}

func (h *Hub) forget(ctx context.Context, id string) error {
	if err := h.store.Remove(ctx, id); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}

// Disconnect asks the gateway to close the connection and removes it from
// the store, whatever the push answered. It returns the push error, if any.
func (h *Hub) Disconnect(ctx context.Context, id string) error {
	perr := h.push.Disconnect(ctx, id)
	return errors.Join(perr, h.forget(ctx, id))
}

// Touch restarts the connection's expiry; call it on activity.
func (h *Hub) Touch(ctx context.Context, id string) error { return h.store.Touch(ctx, id) }

// SendRoom pushes m to every connection in room but those in except (e.g.
// the sender). The error is a store error; push failures are in the Delivery.
func (h *Hub) SendRoom(ctx context.Context, room string, m Message, except ...string) (Delivery, error) {
	ids, err := h.store.Members(ctx, room)
	if err != nil {
		return Delivery{}, err
	}
	if len(except) > 0 {
		ids = slices.DeleteFunc(ids, func(id string) bool { return slices.Contains(except, id) })
	}
	return h.Send(ctx, ids, m)
}

// SendUser pushes m to every connection of the user.
func (h *Hub) SendUser(ctx context.Context, userID string, m Message) (Delivery, error) {
	ids, err := h.store.UserConns(ctx, userID)
	if err != nil {
		return Delivery{}, err
	}
	return h.Send(ctx, ids, m)
}

// Send pushes m to the connections (see [PushClient.BroadcastMessage]) and
// prunes from the store those that HubOptions.ShouldPrune selects. The
// error is nil unless m is invalid or pruning hit a store error; push
// failures are in the Delivery, and Delivery.Err turns them into an error.
func (h *Hub) Send(ctx context.Context, ids []string, m Message) (Delivery, error) {
	p, err := prepare(m)
	if err != nil {
		return Delivery{}, err
	}
	ids = unique(ids)
	err = h.push.broadcast(ctx, ids, p)
	d := Delivery{Delivered: len(ids)}
	if err == nil {
		return d, nil
	}
	be, ok := errors.AsType[*BroadcastError](err)
	if !ok {
		return Delivery{}, err
	}
	d.Delivered, d.Failed, d.Errors = be.Sent, len(be.Failed), be.Failed
	var storeErrs []error
	for id, perr := range be.Failed {
		if !h.opts.ShouldPrune(perr) {
			continue
		}
		if err := h.forget(ctx, id); err != nil {
			storeErrs = append(storeErrs, err)
			h.log(ctx, "scfws: hub: prune failed", id, err)
			continue
		}
		d.Pruned++
		h.log(ctx, "scfws: hub: pruned connection", id, perr)
	}
	return d, errors.Join(storeErrs...)
}

func (h *Hub) log(ctx context.Context, msg, id string, err error) {
	if h.opts.Logger != nil {
		h.opts.Logger.LogAttrs(ctx, slog.LevelInfo, msg, slog.String("secConnectionID", id), slog.Any("err", err))
	}
}
