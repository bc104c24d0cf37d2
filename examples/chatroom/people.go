package main

import (
	"context"
	"fmt"
	"slices"
	"unicode/utf8"
)

// kick closes the connections of the user called nick in the sender's room
// (a server-side close: the gateway runs no cleanup for it, so they are
// removed from the store here) and tells the room.
func (c *chat) kick(ctx context.Context, id, nick string) error {
	room, ids, err := c.inRoom(ctx, id, nick)
	if err != nil {
		return err
	}
	if room == "" {
		return c.tell(ctx, id, serverMsg{Type: "error", Text: "join a room first: /join lobby"})
	}
	if len(ids) == 0 {
		return c.tell(ctx, id, serverMsg{Type: "error", Text: fmt.Sprintf("nobody called %q in %s", nick, room)})
	}
	by := c.nick(ctx, id)
	for _, m := range ids {
		// told first: a connection's pushes arrive in order, the closing last
		if err := c.ignoreGone(ctx, c.tell(ctx, m, serverMsg{Type: "kicked", Room: room, From: by,
			Text: "you were kicked from " + room + " by " + by})); err != nil {
			return err
		}
		if err := c.ignoreGone(ctx, c.hub.Disconnect(ctx, m)); err != nil {
			return err
		}
	}
	return c.notice(ctx, room, nick+" was kicked by "+by)
}

// inRoom lists the connections called nick in the sender's room, and the
// room; the sender gets the error to tell when there is none.
func (c *chat) inRoom(ctx context.Context, id, nick string) (room string, ids []string, err error) {
	rooms, err := c.store.Rooms(ctx, id)
	if err != nil || len(rooms) == 0 {
		return "", nil, err
	}
	members, err := c.store.Members(ctx, rooms[0])
	if err != nil {
		return "", nil, err
	}
	for _, m := range members {
		if m != id && c.nick(ctx, m) == nick {
			ids = append(ids, m)
		}
	}
	return rooms[0], ids, nil
}

// private sends text to the user called nick in the sender's room, and
// shows the sender what was sent.
func (c *chat) private(ctx context.Context, id, nick, text string) error {
	if text == "" || utf8.RuneCountInString(text) > maxText {
		return c.tell(ctx, id, serverMsg{Type: "error", Text: fmt.Sprintf("a message has 1 to %d characters", maxText)})
	}
	room, to, err := c.inRoom(ctx, id, nick)
	if err != nil {
		return err
	}
	if room == "" {
		return c.tell(ctx, id, serverMsg{Type: "error", Text: "join a room first: /join lobby"})
	}
	if len(to) == 0 {
		return c.tell(ctx, id, serverMsg{Type: "error", Text: fmt.Sprintf("nobody called %q in %s", nick, room)})
	}
	m := serverMsg{Type: "private", From: c.nick(ctx, id), To: nick, Text: text}
	for _, t := range to {
		if err := c.tell(ctx, t, m); err != nil {
			return err
		}
	}
	return c.tell(ctx, id, m)
}

// who tells the sender who is in its room.
func (c *chat) who(ctx context.Context, id string) error {
	rooms, err := c.store.Rooms(ctx, id)
	if err != nil {
		return err
	}
	if len(rooms) == 0 {
		return c.tell(ctx, id, serverMsg{Type: "error", Text: "join a room first: /join lobby"})
	}
	members, err := c.store.Members(ctx, rooms[0])
	if err != nil {
		return err
	}
	nicks := make([]string, 0, len(members))
	for _, m := range members {
		nicks = append(nicks, c.nick(ctx, m))
	}
	slices.Sort(nicks)
	return c.tell(ctx, id, serverMsg{Type: "who", Room: rooms[0], Nicks: nicks, Members: len(nicks)})
}
