package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/scfws/scfws-go/scfws"
)

// problem answers a user mistake to the user and fails on anything else.
func (c *chat) problem(ctx context.Context, id string, err error) error {
	if errors.Is(err, errBadNick) {
		return c.tell(ctx, id, serverMsg{Type: "error", Text: err.Error()})
	}
	return err
}

// tell pushes m to one connection. A connection that is gone is no error:
// the hub has pruned it.
func (c *chat) tell(ctx context.Context, id string, m serverMsg) error {
	msg, err := scfws.JSON(m)
	if err != nil {
		return err
	}
	return c.ignoreGone(ctx, c.hub.Send(ctx, id, msg))
}

// toRoom pushes m to everyone in room; the hub prunes those who are gone
// (closed without a cleanup: the idle timeout, a dropped client), and the
// room then hears of it, with its corrected head count.
func (c *chat) toRoom(ctx context.Context, room string, m serverMsg) error {
	for range 3 { // a notice may find more connections gone
		msg, err := scfws.JSON(m)
		if err != nil {
			return err
		}
		err = c.hub.SendRoom(ctx, room, msg)
		be, ok := errors.AsType[*scfws.BroadcastError](err)
		if !ok || len(be.Pruned) == 0 {
			return c.ignoreGone(ctx, err)
		}
		c.warn(ctx, err)
		members, err := c.store.Members(ctx, room)
		if err != nil {
			return err
		}
		lost := fmt.Sprintf("%d connection(s) lost in %s", len(be.Pruned), room)
		m = serverMsg{Type: "notice", Room: room, Text: lost, Members: len(members)}
	}
	return nil
}

// ignoreGone keeps push failures from failing the invocation, which would
// make the gateway drop the sender: the hub has pruned every connection the
// gateway refused and logged it; a push that got no answer is logged here.
// A store error is returned.
func (c *chat) ignoreGone(ctx context.Context, err error) error {
	if _, ok := errors.AsType[*scfws.BroadcastError](err); ok {
		c.warn(ctx, err)
		return nil
	}
	if _, ok := errors.AsType[*scfws.PushError](err); ok {
		c.warn(ctx, err)
		return nil
	}
	return err
}

func (c *chat) warn(ctx context.Context, err error) {
	if c.log != nil && !errors.Is(err, scfws.ErrPushRefused) {
		c.log.WarnContext(ctx, "chatroom: push failed", "err", err)
	}
}
