package hub

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/scfws/scfws-go/scfws"
)

// Options configures a [Hub]. A nil *Options means the zero value.
type Options struct {
	// Logger receives a line per pruned connection and per store error
	// while pruning. Nil: no logging.
	Logger *slog.Logger
}

// Hub keeps a [Store] in step with the gateway: it stores the connections
// of register events, forgets those of cleanup events, and sends to
// connections, rooms and users through a [scfws.PushClient], removing from
// the store every connection the gateway refused (it has dropped that
// client), and none when no answer came. A Hub is safe for concurrent use.
//
// A pruned connection gets no closing push: per Tencent's document the
// gateway has already dropped it (FIN) after a non-200 answer, and a closing
// push per pruned connection would double the requests exactly when the
// gateway is failing. Should a client survive all the same, its next message
// tells your transmission function, which can store it again (Hub.Touch
// returns ErrNotFound), as examples/chatroom does.
type Hub struct {
	store Store
	push  *scfws.PushClient
	log   *slog.Logger
}

// New returns a Hub over store and push. opts may be nil.
func New(store Store, push *scfws.PushClient, opts *Options) *Hub {
	h := &Hub{store: store, push: push}
	if opts != nil {
		h.log = opts.Logger
	}
	return h
}

// Register stores the connection of a register event: its ID, userID (may
// be ""), the negotiated subprotocol, the source IP, now, and meta. Call it
// from your RegisterFunc; an error there refuses the connection.
func (h *Hub) Register(ctx context.Context, ev *scfws.RegisterEvent, userID string, meta map[string]string) error {
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
func (h *Hub) Cleanup(ctx context.Context, ev *scfws.CleanupEvent) error {
	_, err := h.forget(ctx, ev.ConnectionID())
	return err
}

// forget removes id; removed is false when the store did not hold it.
func (h *Hub) forget(ctx context.Context, id string) (removed bool, err error) {
	err = h.store.Remove(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Touch restarts the connection's expiry; call it on activity. ErrNotFound
// when the store does not hold it.
func (h *Hub) Touch(ctx context.Context, id string) error { return h.store.Touch(ctx, id) }

// Disconnect asks the gateway to close the connection and removes it from
// the store, whatever the push answered (the gateway documents no cleanup
// for closes the server starts). It returns the push error, if any, joined
// with a store error.
func (h *Hub) Disconnect(ctx context.Context, id string) error {
	perr := h.push.Disconnect(ctx, id)
	_, err := h.forget(ctx, id)
	return errors.Join(perr, err)
}

// Send pushes m to one connection, as [scfws.PushClient.Send] does, and
// removes the connection from the store when the gateway refused the push.
// The error is the push's *scfws.PushError, joined with a store error.
func (h *Hub) Send(ctx context.Context, id string, m scfws.Message) error {
	err := h.push.Send(ctx, id, m)
	if !errors.Is(err, scfws.ErrPushRefused) {
		return err
	}
	_, serr := h.prune(ctx, id, err)
	return errors.Join(err, serr)
}

// SendRoom pushes m to every connection in room but those in except (e.g.
// the sender), as [scfws.PushClient.Broadcast] does, and prunes the refused
// ones. The error is nil when every push succeeded; the store's error when
// the room could not be listed; else a *scfws.BroadcastError whose Failed
// has every failed push (joined with the store's error when its pruning
// failed) and whose Pruned lists the connections removed.
func (h *Hub) SendRoom(ctx context.Context, room string, m scfws.Message, except ...string) error {
	ids, err := h.store.Members(ctx, room)
	if err != nil {
		return err
	}
	if len(except) > 0 {
		ids = slices.DeleteFunc(ids, func(id string) bool { return slices.Contains(except, id) })
	}
	return h.sendMany(ctx, ids, m)
}

// SendUser pushes m to every connection of the user, with the answers of
// [Hub.SendRoom].
func (h *Hub) SendUser(ctx context.Context, userID string, m scfws.Message) error {
	ids, err := h.store.UserConns(ctx, userID)
	if err != nil {
		return err
	}
	return h.sendMany(ctx, ids, m)
}

func (h *Hub) sendMany(ctx context.Context, ids []string, m scfws.Message) error {
	err := h.push.Broadcast(ctx, ids, m)
	be, ok := errors.AsType[*scfws.BroadcastError](err)
	if !ok {
		return err // nil, or an invalid message
	}
	for id, perr := range be.Failed {
		if !errors.Is(perr, scfws.ErrPushRefused) {
			continue
		}
		removed, serr := h.prune(ctx, id, perr)
		if removed {
			be.Pruned = append(be.Pruned, id)
		}
		if serr != nil {
			be.Failed[id] = errors.Join(perr, serr)
		}
	}
	return be
}

// prune removes a connection whose push was refused.
func (h *Hub) prune(ctx context.Context, id string, perr error) (bool, error) {
	removed, err := h.forget(ctx, id)
	if h.log != nil {
		if err != nil {
			h.log.LogAttrs(ctx, slog.LevelWarn, "hub: prune failed", slog.String("secConnectionID", id), slog.Any("err", err))
		} else if removed {
			h.log.LogAttrs(ctx, slog.LevelInfo, "hub: pruned connection", slog.String("secConnectionID", id), slog.Any("err", perr))
		}
	}
	return removed, err
}
