package scfws

import (
	"context"
	"encoding/json"
	"testing"
)

// The adapters' cost is measured against a bare json.Unmarshal + json.Marshal
// of the same structs in the same run: compare BenchmarkRegisterInvoke with
// BenchmarkRegisterBareJSON, and BenchmarkTransmissionInvoke with
// BenchmarkTransmissionBareJSON.

func BenchmarkRegisterInvoke(b *testing.B) {
	raw := fixtures(b)["register-full"]
	h := NewRegisterHandler(func(context.Context, *RegisterEvent) error { return nil },
		&RegisterOptions{Subprotocols: []string{"chat"}, Extensions: []string{"permessage-deflate"}})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Invoke(ctx, raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRegisterBareJSON(b *testing.B) {
	raw := fixtures(b)["register-full"]
	b.ReportAllocs()
	for b.Loop() {
		var ev RegisterEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			b.Fatal(err)
		}
		resp := RegisterResponse{ErrMsg: "ok", WebSocket: &RegisterResponseWebSocket{
			Action: ActionConnecting, SecConnectionID: ev.WebSocket.SecConnectionID,
			SecWebSocketProtocol: "chat", SecWebSocketExtensions: "permessage-deflate"}}
		if _, err := json.Marshal(&resp); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTransmissionInvoke(b *testing.B) {
	raw := fixtures(b)["transmission-text"]
	h := NewTransmissionHandler(func(context.Context, *TransmissionEvent) error { return nil })
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Invoke(ctx, raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTransmissionBareJSON(b *testing.B) {
	raw := fixtures(b)["transmission-text"]
	b.ReportAllocs()
	for b.Loop() {
		var ev TransmissionEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(&RegisterResponse{ErrMsg: "ok"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRouterInvokeRegister(b *testing.B) {
	raw := fixtures(b)["register-full"]
	r := &Router{RegisterOptions: &RegisterOptions{Subprotocols: []string{"chat"}, Extensions: []string{"permessage-deflate"}}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Invoke(ctx, raw); err != nil {
			b.Fatal(err)
		}
	}
}
