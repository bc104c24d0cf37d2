package scfws

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/scfws/scfws-go/internal/wsheader"
)

// seedEvents adds the fixture corpus and a few broken events to f.
func seedEvents(f *testing.F) {
	for _, raw := range fixtures(f) {
		f.Add(raw)
	}
	for _, s := range []string{``, `{`, `null`, `[]`, `{"websocket":null}`, `{"requestContext":{},"websocket":{"action":"connecting","secConnectionID":"a","secWebSocketProtocol":"a,,b","secWebSocketExtensions":"x;\"y"}}`} {
		f.Add([]byte(s))
	}
}

// FuzzInvoke: no payload makes an adapter panic, the register answer is
// always a JSON object with errNo, an accepting answer names at most one
// subprotocol, one the client offered, and the Router answers exactly as the
// adapter of the payload's action.
func FuzzInvoke(f *testing.F) {
	seedEvents(f)
	opts := &RegisterOptions{Subprotocols: []string{"chat", "binary", "superchat"}, Extensions: []string{"permessage-deflate"}}
	reg := NewRegisterHandler(nil, opts)
	router := &Router{RegisterOptions: opts}
	tx, cl := NewTransmissionHandler(nil), NewCleanupHandler(nil)
	f.Fuzz(func(t *testing.T, payload []byte) {
		ctx := context.Background()
		out, err := reg.Invoke(ctx, payload)
		if err != nil {
			t.Fatalf("register returned an invocation error: %v", err)
		}
		var resp struct {
			ErrNo     *int               `json:"errNo"`
			ErrMsg    *string            `json:"errMsg"`
			WebSocket *RegisterWebSocket `json:"websocket"`
		}
		if err := json.Unmarshal(out, &resp); err != nil || resp.ErrNo == nil || resp.ErrMsg == nil {
			t.Fatalf("register answer %s is not an errNo/errMsg object: %v", out, err)
		}
		if *resp.ErrNo == 0 {
			w, role, err := decode(payload)
			if err != nil || role != ActionConnecting {
				t.Fatalf("accepted an event that does not decode as a register event: %v", err)
			}
			if p := resp.WebSocket.SecWebSocketProtocol; p != "" && !slices.Contains(wsheader.ParseSubprotocols(w.WebSocket.SecWebSocketProtocol), p) {
				t.Fatalf("answered subprotocol %q not offered in %q", p, w.WebSocket.SecWebSocketProtocol)
			}
		}
		_, _ = tx.Invoke(ctx, payload)
		_, _ = cl.Invoke(ctx, payload)
		assertRouterAgrees(t, router, reg, tx, cl, payload)
	})
}

// FuzzParseHeaders: parsing never panics, what it returns is well formed,
// and negotiation only answers an extension the client offered.
func FuzzParseHeaders(f *testing.F) {
	for _, raw := range fixtures(f) {
		if w, _, err := decode(raw); err == nil {
			f.Add(w.WebSocket.SecWebSocketProtocol)
			f.Add(w.WebSocket.SecWebSocketExtensions)
		}
	}
	for _, v := range negotiationVectors {
		f.Add(v.protocols)
		f.Add(v.extensions)
	}
	f.Fuzz(func(t *testing.T, header string) {
		protos := wsheader.ParseSubprotocols(header)
		for i, p := range protos {
			if !wsheader.IsToken(p) || !strings.Contains(header, p) || slices.Contains(protos[:i], p) {
				t.Fatalf("wsheader.ParseSubprotocols(%q) returned %q", header, protos)
			}
		}
		offers := wsheader.ParseExtensions(header)
		for _, o := range offers {
			if !wsheader.IsToken(o.Name) || !strings.Contains(header, o.Name) {
				t.Fatalf("wsheader.ParseExtensions(%q) returned name %q", header, o.Name)
			}
		}
		ans := negotiateExtensions(offers, []string{"permessage-deflate"})
		if ans == "" {
			return
		}
		back := wsheader.ParseExtensions(ans)
		if len(back) != 1 || back[0].Name != "permessage-deflate" {
			t.Fatalf("answer %q to %q is not one permessage-deflate element", ans, header)
		}
		if _, ok := negotiateDeflate(back[0]); !ok {
			t.Fatalf("answer %q to %q is not valid permessage-deflate", ans, header)
		}
	})
}
