package scfws_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/scfwstest"
)

// A register function that negotiates one subprotocol and refuses
// connections from one address.
func ExampleNewRegisterHandler() {
	h := scfws.NewRegisterHandler(func(ctx context.Context, ev *scfws.RegisterEvent) error {
		if ev.RequestContext.SourceIP == "203.0.113.9" {
			return scfws.Reject(4003, "forbidden")
		}
		return nil
	}, &scfws.RegisterOptions{Subprotocols: []string{"chat.v2", "chat.v1"}})

	_, ok := scfwstest.NewRegisterEvent("CQ1RaJAf4vzaVAkNUdHLZA==", scfwstest.WithSubprotocols("chat.v1, chat.v2"))
	out, _ := h.Invoke(context.Background(), ok)
	fmt.Println(string(out))

	_, banned := scfwstest.NewRegisterEvent("k+/9aJAf4vzaVAkNUdHLZA==", scfwstest.WithSourceIP("203.0.113.9"))
	out, _ = h.Invoke(context.Background(), banned)
	fmt.Println(string(out))
	// Output:
	// {"errNo":0,"errMsg":"ok","websocket":{"action":"connecting","secConnectionID":"CQ1RaJAf4vzaVAkNUdHLZA==","secWebSocketProtocol":"chat.v2"}}
	// {"errNo":4003,"errMsg":"forbidden"}
}

// One binary deployed as all three functions: an echo server.
func ExampleRouter() {
	gw := scfwstest.NewGateway() // stands in for the reverse-push address
	defer gw.Close()
	push, _ := scfws.NewPushClient(gw.URL, nil)

	r := &scfws.Router{
		Transmission: func(ctx context.Context, ev *scfws.TransmissionEvent) error {
			return push.SendMessage(ctx, ev.ConnectionID(), ev.Message())
		},
	}
	_, msg := scfwstest.NewTransmissionEvent("CQ1RaJAf4vzaVAkNUdHLZA==", "hello")
	out, err := r.Invoke(context.Background(), msg)
	fmt.Println(string(out), err)
	fmt.Println(string(gw.Pushes()[0].Body))
	// Output:
	// {"errNo":0,"errMsg":"ok"} <nil>
	// {"websocket":{"action":"data send","secConnectionID":"CQ1RaJAf4vzaVAkNUdHLZA==","dataType":"text","data":"hello"}}
}

// Reject refuses a connection with your own errNo and errMsg; any other
// error is answered with a generic refusal that does not leak it.
func ExampleReject() {
	for _, err := range []error{scfws.Reject(4001, "token expired"), errors.New("redis: connection refused")} {
		h := scfws.NewRegisterHandler(func(context.Context, *scfws.RegisterEvent) error { return err }, nil)
		_, ev := scfwstest.NewRegisterEvent("CQ1RaJAf4vzaVAkNUdHLZA==")
		out, _ := h.Invoke(context.Background(), ev)
		fmt.Println(string(out))
	}
	// Output:
	// {"errNo":4001,"errMsg":"token expired"}
	// {"errNo":500,"errMsg":"internal error"}
}

func ExampleSelectSubprotocol() {
	offered := scfws.ParseSubprotocols("chat,, superchat\t, chat")
	fmt.Printf("%q\n", offered)
	fmt.Printf("%q\n", scfws.SelectSubprotocol(offered, []string{"superchat", "chat"}))
	fmt.Printf("%q\n", scfws.SelectSubprotocol(offered, []string{"mqtt"}))
	// Output:
	// ["chat" "superchat"]
	// "superchat"
	// ""
}

func ExampleNegotiateExtensions() {
	offers := scfws.ParseExtensions(`permessage-deflate; server_max_window_bits=08, permessage-deflate; server_max_window_bits="10"; client_max_window_bits`)
	fmt.Println(len(offers))
	fmt.Println(scfws.NegotiateExtensions(offers, []string{"permessage-deflate"}))
	// Output:
	// 2
	// permessage-deflate; server_max_window_bits=10
}

// A failed push is a *PushError: branch on its kind with errors.Is and read
// the gateway's answer with errors.As.
func ExamplePushClient_Send() {
	gw := scfwstest.NewGateway()
	defer gw.Close()
	gw.SetRule("gone", scfwstest.Rule{Status: 200, ErrNo: 1, ErrMsg: "connection not found"})
	c, _ := scfws.NewPushClient(gw.URL, nil)

	fmt.Println(c.Send(context.Background(), "CQ1RaJAf4vzaVAkNUdHLZA==", "hi"))
	err := c.Send(context.Background(), "gone", "hi")
	var pe *scfws.PushError
	if errors.As(err, &pe) {
		fmt.Println(errors.Is(err, scfws.ErrPushRefused), pe.StatusCode, pe.ErrNo, pe.ErrMsg)
	}
	// Output:
	// <nil>
	// true 200 1 connection not found
}

func ExamplePushClient_Broadcast() {
	gw := scfwstest.NewGateway()
	defer gw.Close()
	gw.SetRule("b", scfwstest.Rule{Status: 400})
	c, _ := scfws.NewPushClient(gw.URL, &scfws.PushOptions{Concurrency: 8})

	err := c.Broadcast(context.Background(), []string{"a", "b", "c", "a"}, "news")
	var be *scfws.BroadcastError
	if errors.As(err, &be) {
		for id, err := range be.Failed {
			fmt.Println(be.Sent, "sent;", id, "failed:", errors.Is(err, scfws.ErrPushRefused))
		}
	}
	fmt.Println(gw.Requests(), "requests")
	// Output:
	// 2 sent; b failed: true
	// 3 requests
}

// A chat room: the hub lists the room in the store and pushes to everyone
// but the sender, pruning connections the gateway says are gone.
func ExampleHub() {
	gw := scfwstest.NewGateway()
	defer gw.Close()
	gw.SetRule("gone", scfwstest.Rule{ErrNo: 1, ErrMsg: "no such connection"})
	push, _ := scfws.NewPushClient(gw.URL, nil)
	hub := scfws.NewHub(scfws.NewMemoryStore(), push, nil)
	ctx := context.Background()

	for _, id := range []string{"ann", "bob", "gone"} {
		ev, _ := scfwstest.NewRegisterEvent(id)
		_ = hub.Register(ctx, ev, "", nil)
		_ = hub.Store().Join(ctx, id, "lobby")
	}
	d, err := hub.SendRoom(ctx, "lobby", scfws.TextMessage("ann: hi"), "ann")
	fmt.Println(d.Delivered, d.Failed, d.Pruned, err)
	members, _ := hub.Store().Members(ctx, "lobby")
	fmt.Println(len(members))
	// Output:
	// 1 1 1 <nil>
	// 2
}

// A transmission function: a bad message is answered, not fatal; an error
// would make the gateway drop the client.
func ExampleNewTransmissionHandler() {
	h := scfws.NewTransmissionHandler(func(ctx context.Context, ev *scfws.TransmissionEvent) error {
		var msg struct{ Text string }
		if err := ev.DecodeJSON(&msg); err != nil {
			fmt.Println("answer the client:", errors.Is(err, scfws.ErrInvalidData))
			return nil
		}
		fmt.Println("text:", msg.Text)
		return nil
	})
	for _, text := range []string{`{"text":"hi"}`, `hi`} {
		_, raw := scfwstest.NewTransmissionEvent("CQ1RaJAf4vzaVAkNUdHLZA==", text)
		out, err := h.Invoke(context.Background(), raw)
		fmt.Println(string(out), err)
	}
	_, err := h.Invoke(context.Background(), []byte(`{"websocket":{"action":"closing","secConnectionID":"x"}}`))
	fmt.Println(errors.Is(err, scfws.ErrWrongAction))
	// Output:
	// text: hi
	// {"errNo":0,"errMsg":"ok"} <nil>
	// answer the client: true
	// {"errNo":0,"errMsg":"ok"} <nil>
	// true
}

// A cleanup function's panic is recovered into an invocation error.
func ExampleNewCleanupHandler() {
	h := scfws.NewCleanupHandler(func(ctx context.Context, ev *scfws.CleanupEvent) error {
		panic("store is nil")
	})
	_, raw := scfwstest.NewCleanupEvent("CQ1RaJAf4vzaVAkNUdHLZA==")
	_, err := h.Invoke(context.Background(), raw)
	fmt.Println(errors.Is(err, scfws.ErrPanic))
	fmt.Println(err)
	// Output:
	// true
	// scfws: cleanup of connection "CQ1RaJAf4vzaVAkNUdHLZA==": scfws: panic in handler: store is nil
}
