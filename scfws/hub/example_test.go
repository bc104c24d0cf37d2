package hub_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/hub"
	"github.com/scfws/scfws-go/scfws/scfwstest"
)

// A chat room: the hub lists the room in the store and pushes to everyone
// but the sender, pruning connections the gateway says are gone.
func ExampleHub_SendRoom() {
	gw := scfwstest.NewGateway()
	defer gw.Close()
	gw.SetRule("gone", scfwstest.Rule{ErrNo: 1, ErrMsg: "no such connection"})
	push, _ := scfws.NewPushClient(gw.URL, nil)
	store := hub.NewMemoryStore()
	h := hub.New(store, push, nil)
	ctx := context.Background()

	for _, id := range []string{"ann", "bob", "gone"} {
		_ = h.Register(ctx, scfwstest.NewRegisterEvent(id), "", nil)
		_ = store.Join(ctx, id, "lobby")
	}
	err := h.SendRoom(ctx, "lobby", scfws.Text("ann: hi"), "ann")
	var be *scfws.BroadcastError
	if errors.As(err, &be) {
		fmt.Println(be.Sent, "sent, pruned:", be.Pruned)
	}
	members, _ := store.Members(ctx, "lobby")
	fmt.Println(len(members), "members left")
	// Output:
	// 1 sent, pruned: [gone]
	// 2 members left
}

// Closing a room: every connection in it gets a closing push and leaves
// the store (the gateway runs no cleanup for server-side closes).
func ExampleHub_CloseRoom() {
	gw := scfwstest.NewGateway()
	defer gw.Close()
	push, _ := scfws.NewPushClient(gw.URL, nil)
	store := hub.NewMemoryStore()
	h := hub.New(store, push, nil)
	ctx := context.Background()
	for _, id := range []string{"ann", "bob"} {
		_ = h.Register(ctx, scfwstest.NewRegisterEvent(id), "", nil)
		_ = store.Join(ctx, id, "games")
	}
	fmt.Println(h.CloseRoom(ctx, "games"))
	members, _ := store.Members(ctx, "games")
	fmt.Println(len(gw.Pushes()), "closing pushes,", len(members), "members left")
	// Output:
	// <nil>
	// 2 closing pushes, 0 members left
}

// The transmission and cleanup functions see the stored connection — user,
// meta, rooms — without looking it up themselves.
func ExampleHub_OnMessage() {
	gw := scfwstest.NewGateway()
	defer gw.Close()
	push, _ := scfws.NewPushClient(gw.URL, nil)
	store := hub.NewMemoryStore()
	h := hub.New(store, push, nil)
	ctx := context.Background()
	_ = h.Register(ctx, scfwstest.NewRegisterEvent("conn-1"), "ann", map[string]string{"nick": "Ann"})
	_ = store.Join(ctx, "conn-1", "lobby")

	router := &scfws.Router{
		Transmission: h.OnMessage(func(ctx context.Context, ev *scfws.TransmissionEvent) error {
			c, _ := hub.ConnFrom(ctx)
			fmt.Println(c.UserID, c.Meta["nick"], c.Rooms, ev.WebSocket.Data)
			return nil
		}),
		Cleanup: h.OnClose(func(ctx context.Context, ev *scfws.CleanupEvent) error {
			c, _ := hub.ConnFrom(ctx)
			fmt.Println(c.Meta["nick"], "left", c.Rooms)
			return nil
		}),
	}
	_, _ = scfwstest.Invoke(ctx, router, scfwstest.NewTransmissionEvent("conn-1", scfws.Text("hello")))
	_, _ = scfwstest.Invoke(ctx, router, scfwstest.NewCleanupEvent("conn-1"))
	_, err := store.Get(ctx, "conn-1")
	fmt.Println(err)
	// Output:
	// ann Ann [lobby] hello
	// Ann left [lobby]
	// hub: connection not found
}

// Signing a user out everywhere: every connection of the user is closed.
func ExampleHub_CloseUser() {
	gw := scfwstest.NewGateway()
	defer gw.Close()
	push, _ := scfws.NewPushClient(gw.URL, nil)
	store := hub.NewMemoryStore()
	h := hub.New(store, push, nil)
	ctx := context.Background()
	for _, id := range []string{"ann-phone", "ann-laptop", "bob"} {
		user := id[:3]
		_ = h.Register(ctx, scfwstest.NewRegisterEvent(id), user, nil)
	}
	fmt.Println(h.CloseUser(ctx, "ann"))
	ann, _ := store.UserConns(ctx, "ann")
	bob, _ := store.UserConns(ctx, "bob")
	fmt.Println(len(ann), len(bob))
	// Output:
	// <nil>
	// 0 1
}
