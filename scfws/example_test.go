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

	ok := scfwstest.NewRegisterEvent("CQ1RaJAf4vzaVAkNUdHLZA==")
	ok.WebSocket.SecWebSocketProtocol = "chat.v1, chat.v2"
	resp, _ := scfwstest.Invoke(context.Background(), h, ok)
	fmt.Println(resp.ErrNo, resp.WebSocket.SecWebSocketProtocol)

	banned := scfwstest.NewRegisterEvent("k+/9aJAf4vzaVAkNUdHLZA==")
	banned.RequestContext.SourceIP = "203.0.113.9"
	resp, _ = scfwstest.Invoke(context.Background(), h, banned)
	fmt.Println(resp.ErrNo, resp.ErrMsg)
	// Output:
	// 0 chat.v2
	// 4003 forbidden
}

// One binary deployed as all three functions: an echo server.
func ExampleRouter() {
	gw := scfwstest.NewGateway() // stands in for the reverse-push address
	defer gw.Close()
	push, _ := scfws.NewPushClient(gw.URL, nil)

	r := &scfws.Router{
		Transmission: func(ctx context.Context, ev *scfws.TransmissionEvent) error {
			return push.Send(ctx, ev.ConnectionID(), ev.Message())
		},
	}
	msg := scfwstest.NewTransmissionEvent("CQ1RaJAf4vzaVAkNUdHLZA==", scfws.Text("hello"))
	resp, err := scfwstest.Invoke(context.Background(), r, msg)
	fmt.Println(resp.ErrNo, err)
	fmt.Println(string(gw.Pushes()[0].Body))
	// Output:
	// 0 <nil>
	// {"websocket":{"action":"data send","secConnectionID":"CQ1RaJAf4vzaVAkNUdHLZA==","dataType":"text","data":"hello"}}
}

// Reject refuses a connection with your own errNo and errMsg; any other
// error is answered with a generic refusal that does not leak it.
func ExampleReject() {
	for _, err := range []error{scfws.Reject(4001, "token expired"), errors.New("redis: connection refused")} {
		h := scfws.NewRegisterHandler(func(context.Context, *scfws.RegisterEvent) error { return err }, nil)
		out, _ := h.Invoke(context.Background(), []byte(`{"requestContext":{},"websocket":{"action":"connecting","secConnectionID":"CQ1RaJAf4vzaVAkNUdHLZA=="}}`))
		fmt.Println(string(out))
	}
	// Output:
	// {"errNo":4001,"errMsg":"token expired"}
	// {"errNo":500,"errMsg":"internal error"}
}

// Subprotocols are answered in the server's order of preference, never as
// a list; extensions only when asked for, validated per RFC 7692.
func ExampleRegisterOptions() {
	h := scfws.NewRegisterHandler(nil, &scfws.RegisterOptions{
		Subprotocols: []string{"superchat", "chat"},
		Extensions:   []string{"permessage-deflate"},
	})
	ev := scfwstest.NewRegisterEvent("CQ1RaJAf4vzaVAkNUdHLZA==")
	ev.WebSocket.SecWebSocketProtocol = "chat,, superchat\t, chat"
	ev.WebSocket.SecWebSocketExtensions = `permessage-deflate; server_max_window_bits=08, permessage-deflate; server_max_window_bits="10"`
	resp, _ := scfwstest.Invoke(context.Background(), h, ev)
	fmt.Println(resp.WebSocket.SecWebSocketProtocol)
	fmt.Println(resp.WebSocket.SecWebSocketExtensions)
	// Output:
	// superchat
	// permessage-deflate; server_max_window_bits=10
}

// A failed push is a *PushError: branch on its kind with errors.Is and read
// the gateway's answer with errors.As.
func ExamplePushClient_Send() {
	gw := scfwstest.NewGateway()
	defer gw.Close()
	gw.SetRule("gone", scfwstest.Rule{Status: 200, ErrNo: 1, ErrMsg: "connection not found"})
	c, _ := scfws.NewPushClient(gw.URL, nil)

	fmt.Println(c.Send(context.Background(), "CQ1RaJAf4vzaVAkNUdHLZA==", scfws.Text("hi")))
	err := c.Send(context.Background(), "gone", scfws.Text("hi"))
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

	news, _ := scfws.JSON(map[string]string{"type": "news", "text": "hello"})
	err := c.Broadcast(context.Background(), []string{"a", "b", "c", "a"}, news)
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

// A transmission function: a bad message is answered, not fatal; an error
// would make the gateway drop the client.
func ExampleNewTransmissionHandler() {
	h := scfws.NewTransmissionHandler(func(ctx context.Context, ev *scfws.TransmissionEvent) error {
		b, err := ev.Payload()
		if err != nil {
			return err
		}
		fmt.Printf("%s: %q\n", ev.WebSocket.DataType, b)
		return nil
	})
	ctx := context.Background()
	for _, m := range []scfws.Message{scfws.Text("hi"), scfws.Binary([]byte{0xca, 0xfe})} {
		_, err := scfwstest.Invoke(ctx, h, scfwstest.NewTransmissionEvent("CQ1RaJAf4vzaVAkNUdHLZA==", m))
		fmt.Println(err)
	}
	_, err := scfwstest.Invoke(ctx, h, scfwstest.NewCleanupEvent("CQ1RaJAf4vzaVAkNUdHLZA=="))
	fmt.Println(errors.Is(err, scfws.ErrWrongAction))
	// Output:
	// text: "hi"
	// <nil>
	// binary: "\xca\xfe"
	// <nil>
	// true
}

// A cleanup function's panic is recovered into an invocation error.
func ExampleNewCleanupHandler() {
	h := scfws.NewCleanupHandler(func(ctx context.Context, ev *scfws.CleanupEvent) error {
		panic("store is nil")
	})
	_, err := scfwstest.Invoke(context.Background(), h, scfwstest.NewCleanupEvent("CQ1RaJAf4vzaVAkNUdHLZA=="))
	var pe *scfws.PanicError
	fmt.Println(errors.As(err, &pe), pe.Value)
	fmt.Println(err)
	// Output:
	// true store is nil
	// scfws: cleanup of connection "CQ1RaJAf4vzaVAkNUdHLZA==": scfws: panic: store is nil
}
