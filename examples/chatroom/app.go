package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/hub"
)

// The chat protocol: JSON text messages.
//
//	client → server  {"type":"hello","nick":"ann"}   set the nickname, enter the lobby
//	                 {"type":"join","room":"games"}  leave the current room, enter another
//	                 {"type":"nick","nick":"bob"}    change the nickname
//	                 {"type":"say","text":"hi"}      to everyone in the room
//	                 {"type":"kick","nick":"bob"}    close bob's connections in the room
//	                 {"type":"msg","nick":"bob","text":"psst"}  a private message to bob in the room
//	                 {"type":"who"}                  who is in the room
//	server → client  {"type":"welcome","nick":…,"room":…,"members":n}
//	                 {"type":"message","room":…,"from":…,"text":…}
//	                 {"type":"notice","room":…,"text":…,"members":n}   joins and leaves
//	                 {"type":"private","from":…,"to":…,"text":…}  to bob, and back to the sender
//	                 {"type":"who","room":…,"nicks":[…],"members":n}
//	                 {"type":"error","text":…}
//
// Binary frames are echoed back to the sender as binary.

// Subprotocol is the subprotocol the page offers and the app accepts.
const Subprotocol = "scfws-chat.v1"

const (
	lobby      = "lobby"
	maxNick    = 24
	maxRoom    = 32
	maxText    = 2000
	metaNick   = "nick"
	guestNicks = "guest-"
)

type clientMsg struct {
	Type string `json:"type"`
	Nick string `json:"nick,omitempty"`
	Room string `json:"room,omitempty"`
	Text string `json:"text,omitempty"`
}

type serverMsg struct {
	Type    string   `json:"type"`
	Nick    string   `json:"nick,omitempty"`
	Room    string   `json:"room,omitempty"`
	From    string   `json:"from,omitempty"`
	Text    string   `json:"text,omitempty"`
	Members int      `json:"members,omitempty"`
	To      string   `json:"to,omitempty"`
	Nicks   []string `json:"nicks,omitempty"`
}

// chat is the application: stateless, all state is in the store, and every
// push goes through the hub, which prunes connections the gateway dropped.
type chat struct {
	store hub.Store
	hub   *hub.Hub
	log   *slog.Logger // nil: quiet
}

// newRouter returns the chat room as one function serving all three roles.
func newRouter(store hub.Store, push *scfws.PushClient, logger *slog.Logger) *scfws.Router {
	c := &chat{store: store, hub: hub.New(store, push, &hub.Options{Logger: logger}), log: logger}
	return &scfws.Router{
		RegisterOptions: &scfws.RegisterOptions{Subprotocols: []string{Subprotocol}, Logger: logger},
		Register:        c.register,
		Transmission:    c.transmission,
		Cleanup:         c.cleanup,
	}
}

func (c *chat) register(ctx context.Context, ev *scfws.RegisterEvent) error {
	tag := strings.Map(func(r rune) rune {
		if r == '+' || r == '/' || r == '=' {
			return -1
		}
		return r
	}, ev.ConnectionID())
	nick := guestNicks + tag[:min(4, len(tag))]
	return c.hub.Register(ctx, ev, "", map[string]string{metaNick: nick})
}

func (c *chat) transmission(ctx context.Context, ev *scfws.TransmissionEvent) error {
	id := ev.ConnectionID()
	if err := c.hub.Touch(ctx, id); errors.Is(err, hub.ErrNotFound) {
		// expired or pruned meanwhile: store it again rather than drop the user
		if err := c.store.Add(ctx, hub.Conn{ID: id, Meta: map[string]string{metaNick: "guest"}}); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	if ev.WebSocket.DataType == scfws.DataBinary {
		return c.ignoreGone(ctx, c.hub.Send(ctx, id, ev.Message()))
	}
	var m clientMsg
	if err := json.Unmarshal([]byte(ev.WebSocket.Data), &m); err != nil {
		return c.tell(ctx, id, serverMsg{Type: "error", Text: "messages are JSON: {\"type\":\"say\",\"text\":\"…\"}"})
	}
	switch m.Type {
	case "hello":
		if err := c.rename(ctx, id, m.Nick); err != nil {
			return c.problem(ctx, id, err)
		}
		return c.enter(ctx, id, lobby)
	case "join":
		room := strings.TrimSpace(m.Room)
		if room == "" || utf8.RuneCountInString(room) > maxRoom {
			return c.tell(ctx, id, serverMsg{Type: "error", Text: fmt.Sprintf("a room name has 1 to %d characters", maxRoom)})
		}
		return c.enter(ctx, id, room)
	case "nick":
		old := c.nick(ctx, id)
		if err := c.rename(ctx, id, m.Nick); err != nil {
			return c.problem(ctx, id, err)
		}
		return c.announce(ctx, id, func(nick string) string { return old + " is now " + nick })
	case "say":
		text := strings.TrimSpace(m.Text)
		if text == "" || utf8.RuneCountInString(text) > maxText {
			return c.tell(ctx, id, serverMsg{Type: "error", Text: fmt.Sprintf("a message has 1 to %d characters", maxText)})
		}
		rooms, err := c.store.Rooms(ctx, id)
		if err != nil {
			return err
		}
		if len(rooms) == 0 {
			return c.tell(ctx, id, serverMsg{Type: "error", Text: "join a room first: /join lobby"})
		}
		return c.toRoom(ctx, rooms[0], serverMsg{Type: "message", Room: rooms[0], From: c.nick(ctx, id), Text: text})
	case "kick":
		return c.kick(ctx, id, strings.TrimSpace(m.Nick))
	case "msg":
		return c.private(ctx, id, strings.TrimSpace(m.Nick), strings.TrimSpace(m.Text))
	case "who":
		return c.who(ctx, id)
	}
	return c.tell(ctx, id, serverMsg{Type: "error", Text: fmt.Sprintf("unknown message type %q", m.Type)})
}

func (c *chat) cleanup(ctx context.Context, ev *scfws.CleanupEvent) error {
	id := ev.ConnectionID()
	nick := c.nick(ctx, id)
	rooms, err := c.store.Rooms(ctx, id)
	if err != nil && !errors.Is(err, hub.ErrNotFound) {
		return err
	}
	if err := c.hub.Cleanup(ctx, ev); err != nil {
		return err
	}
	for _, r := range rooms {
		if err := c.notice(ctx, r, nick+" left "+r); err != nil {
			return err
		}
	}
	return nil
}

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
	for _, m := range ids {
		if err := c.ignoreGone(ctx, c.hub.Disconnect(ctx, m)); err != nil {
			return err
		}
	}
	return c.notice(ctx, room, nick+" was kicked by "+c.nick(ctx, id))
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

// errBadNick is answered to the user, not failed.
var errBadNick = fmt.Errorf("a nickname has 1 to %d characters", maxNick)

// rename sets the connection's nickname, keeping its rooms.
func (c *chat) rename(ctx context.Context, id, nick string) error {
	nick = strings.TrimSpace(nick)
	if nick == "" || utf8.RuneCountInString(nick) > maxNick {
		return errBadNick
	}
	store := c.store
	conn, err := store.Get(ctx, id)
	if err != nil {
		return err
	}
	rooms, err := store.Rooms(ctx, id)
	if err != nil {
		return err
	}
	if conn.Meta == nil {
		conn.Meta = map[string]string{}
	}
	conn.Meta[metaNick] = nick
	if err := store.Add(ctx, conn); err != nil { // Add replaces, and drops rooms
		return err
	}
	for _, r := range rooms {
		if err := store.Join(ctx, id, r); err != nil {
			return err
		}
	}
	return nil
}

// enter moves the connection to room, with notices to both rooms.
func (c *chat) enter(ctx context.Context, id, room string) error {
	store := c.store
	nick := c.nick(ctx, id)
	rooms, err := store.Rooms(ctx, id)
	if err != nil {
		return err
	}
	for _, r := range rooms {
		if r == room {
			continue
		}
		if err := store.Leave(ctx, id, r); err != nil {
			return err
		}
		if err := c.notice(ctx, r, nick+" left "+r); err != nil {
			return err
		}
	}
	if err := store.Join(ctx, id, room); err != nil {
		return err
	}
	members, err := store.Members(ctx, room)
	if err != nil {
		return err
	}
	if err := c.tell(ctx, id, serverMsg{Type: "welcome", Nick: nick, Room: room, Members: len(members)}); err != nil {
		return err
	}
	return c.toRoom(ctx, room, serverMsg{Type: "notice", Room: room, Text: nick + " joined " + room, Members: len(members)})
}

// notice tells everyone in room what happened, with the room's head count.
func (c *chat) notice(ctx context.Context, room, text string) error {
	members, err := c.store.Members(ctx, room)
	if err != nil {
		return err
	}
	return c.toRoom(ctx, room, serverMsg{Type: "notice", Room: room, Text: text, Members: len(members)})
}

// announce sends a notice made from the new nickname to the connection's rooms.
func (c *chat) announce(ctx context.Context, id string, text func(nick string) string) error {
	rooms, err := c.store.Rooms(ctx, id)
	if err != nil {
		return err
	}
	nick := c.nick(ctx, id)
	for _, r := range rooms {
		if err := c.toRoom(ctx, r, serverMsg{Type: "notice", Room: r, Text: text(nick)}); err != nil {
			return err
		}
	}
	return c.tell(ctx, id, serverMsg{Type: "welcome", Nick: nick, Room: first(rooms)})
}

func first(list []string) string {
	if len(list) == 0 {
		return ""
	}
	return list[0]
}

func (c *chat) nick(ctx context.Context, id string) string {
	conn, err := c.store.Get(ctx, id)
	if err != nil || conn.Meta[metaNick] == "" {
		return "someone"
	}
	return conn.Meta[metaNick]
}

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
