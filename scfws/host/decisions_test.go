package host_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/host"
	"github.com/scfws/scfws-go/scfws/scfwstest"
)

// TestSameDecisionsAsAdapters: for each register function, options and
// client offer, the register adapter's answer on the legacy gateway and the
// host's handshake agree: accepted or refused, and the subprotocol.
func TestSameDecisionsAsAdapters(t *testing.T) {
	accept := func(context.Context, *scfws.RegisterEvent) error { return nil }
	chat := &scfws.RegisterOptions{Subprotocols: []string{"superchat", "chat"}}
	required := &scfws.RegisterOptions{Subprotocols: []string{"chat"}, RequireSubprotocol: true}
	cases := map[string]struct {
		fn      scfws.RegisterFunc
		opts    *scfws.RegisterOptions
		offered []string
	}{
		"accept, no offer":           {accept, nil, nil},
		"no server list never picks": {accept, nil, []string{"chat", "binary"}},
		"server preference":          {accept, chat, []string{"chat", "superchat"}},
		"one match":                  {accept, chat, []string{"mqtt", "chat"}},
		"no match, not required":     {accept, chat, []string{"mqtt"}},
		"required, no match":         {accept, required, []string{"mqtt"}},
		"required, none offered":     {accept, required, nil},
		"case sensitive":             {accept, required, []string{"Chat"}},
		"reject":                     {func(context.Context, *scfws.RegisterEvent) error { return scfws.Reject(4003, "no") }, chat, []string{"chat"}},
		"error":                      {func(context.Context, *scfws.RegisterEvent) error { return errors.New("db down") }, nil, nil},
		"panic":                      {func(context.Context, *scfws.RegisterEvent) error { panic("oops") }, nil, nil},
		"reads the negotiation": {func(_ context.Context, ev *scfws.RegisterEvent) error {
			if ev.Negotiated.Subprotocol != "chat" {
				return scfws.Reject(4000, "chat only")
			}
			return nil
		}, chat, []string{"chat"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			h := scfws.NewRegisterHandler(tc.fn, tc.opts)
			ev := scfwstest.NewRegisterEvent(scfwstest.NewConnectionID())
			ev.WebSocket.SecWebSocketProtocol = strings.Join(tc.offered, ", ")
			payload, err := json.Marshal(ev)
			require.NoError(t, err)
			out, err := h.Invoke(context.Background(), payload)
			require.NoError(t, err)
			var legacy scfws.Response
			require.NoError(t, json.Unmarshal(out, &legacy))
			wantProto := ""
			if legacy.WebSocket != nil {
				wantProto = legacy.WebSocket.SecWebSocketProtocol
			}

			s, err := host.New(&host.Options{Addr: "127.0.0.1:0"})
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- s.Serve(ctx, scfws.Functions{Register: h}) }()
			defer func() { cancel(); <-done }()
			dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer dcancel()
			c, resp, err := websocket.Dial(dctx, s.URL(), &websocket.DialOptions{Subprotocols: tc.offered})
			if legacy.ErrNo != 0 {
				require.Error(t, err, "the adapter refused with errNo %d", legacy.ErrNo)
				assert.Equal(t, http.StatusForbidden, resp.StatusCode)
				return
			}
			require.NoError(t, err, "the adapter accepted")
			defer c.CloseNow()
			assert.Equal(t, wantProto, c.Subprotocol())
		})
	}
}
