package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/hub"
	"github.com/scfws/scfws-go/scfws/route"
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
//	                 {"type":"kicked","room":…,"from":…,"text":…}  to the one kicked, before the close
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

// newRouter returns the chat room as one function serving all three roles:
// messages routed by their "type" (package route), with the sender's stored
// connection in ctx (hub.OnMessage, hub.OnClose).
func newRouter(store hub.Store, push *scfws.PushClient, logger *slog.Logger) *scfws.Router {
	c := &chat{store: store, hub: hub.New(store, push, &hub.Options{Logger: logger}), log: logger}
	mux := route.New(push, &route.Options{Key: "type", Binary: c.echo})
	route.Handle(mux, "hello", c.hello)
	route.Handle(mux, "join", c.join)
	route.Handle(mux, "nick", c.renamed)
	route.Handle(mux, "say", c.say)
	route.Handle(mux, "kick", func(ctx context.Context, ev *scfws.TransmissionEvent, m clientMsg) error {
		return c.kick(ctx, ev.ConnectionID(), strings.TrimSpace(m.Nick))
	})
	route.Handle(mux, "msg", func(ctx context.Context, ev *scfws.TransmissionEvent, m clientMsg) error {
		return c.private(ctx, ev.ConnectionID(), strings.TrimSpace(m.Nick), strings.TrimSpace(m.Text))
	})
	route.Handle(mux, "who", func(ctx context.Context, ev *scfws.TransmissionEvent, _ clientMsg) error {
		return c.who(ctx, ev.ConnectionID())
	})
	return &scfws.Router{
		RegisterOptions: &scfws.RegisterOptions{Subprotocols: []string{Subprotocol}, Logger: logger},
		Register:        c.register,
		Transmission:    c.hub.OnMessage(c.known(mux.Transmission)),
		Cleanup:         c.hub.OnClose(c.cleanup),
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

// known stores again a sender the store lost (expired, or pruned while it
// was in fact still there) rather than drop the user.
func (c *chat) known(next scfws.TransmissionFunc) scfws.TransmissionFunc {
	return func(ctx context.Context, ev *scfws.TransmissionEvent) error {
		if _, ok := hub.ConnFrom(ctx); !ok {
			conn := hub.Conn{ID: ev.ConnectionID(), Meta: map[string]string{metaNick: "guest"}}
			if err := c.store.Add(ctx, conn); err != nil {
				return err
			}
		}
		return next(ctx, ev)
	}
}

// echo sends a binary message back to its sender.
func (c *chat) echo(ctx context.Context, ev *scfws.TransmissionEvent) error {
	return c.ignoreGone(ctx, c.hub.Send(ctx, ev.ConnectionID(), ev.Message()))
}

func (c *chat) hello(ctx context.Context, ev *scfws.TransmissionEvent, m clientMsg) error {
	id := ev.ConnectionID()
	if err := c.rename(ctx, id, m.Nick); err != nil {
		return c.problem(ctx, id, err)
	}
	return c.enter(ctx, id, lobby)
}

func (c *chat) join(ctx context.Context, ev *scfws.TransmissionEvent, m clientMsg) error {
	room := strings.TrimSpace(m.Room)
	if room == "" || utf8.RuneCountInString(room) > maxRoom {
		return c.tell(ctx, ev.ConnectionID(), serverMsg{Type: "error", Text: fmt.Sprintf("a room name has 1 to %d characters", maxRoom)})
	}
	return c.enter(ctx, ev.ConnectionID(), room)
}

func (c *chat) renamed(ctx context.Context, ev *scfws.TransmissionEvent, m clientMsg) error {
	id := ev.ConnectionID()
	old := c.nick(ctx, id)
	if err := c.rename(ctx, id, m.Nick); err != nil {
		return c.problem(ctx, id, err)
	}
	return c.announce(ctx, id, func(nick string) string { return old + " is now " + nick })
}

func (c *chat) say(ctx context.Context, ev *scfws.TransmissionEvent, m clientMsg) error {
	id := ev.ConnectionID()
	text := strings.TrimSpace(m.Text)
	if text == "" || utf8.RuneCountInString(text) > maxText {
		return c.tell(ctx, id, serverMsg{Type: "error", Text: fmt.Sprintf("a message has 1 to %d characters", maxText)})
	}
	conn, _ := hub.ConnFrom(ctx) // loaded by hub.OnMessage: no store round trip
	if len(conn.Rooms) == 0 {
		return c.tell(ctx, id, serverMsg{Type: "error", Text: "join a room first: /join lobby"})
	}
	return c.toRoom(ctx, conn.Rooms[0], serverMsg{Type: "message", Room: conn.Rooms[0], From: conn.Meta[metaNick], Text: text})
}

// cleanup tells the rooms the connection was in (hub.OnClose loaded them
// and has removed the connection, so the head counts are right).
func (c *chat) cleanup(ctx context.Context, ev *scfws.CleanupEvent) error {
	conn, ok := hub.ConnFrom(ctx)
	if !ok {
		return nil // already gone: kicked, pruned or expired
	}
	nick := conn.Meta[metaNick]
	if nick == "" {
		nick = "someone"
	}
	for _, r := range conn.Rooms {
		if err := c.notice(ctx, r, nick+" left "+r); err != nil {
			return err
		}
	}
	return nil
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
