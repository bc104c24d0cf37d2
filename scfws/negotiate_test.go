package scfws

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/scfws/scfws-go/internal/wsheader"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// negotiationVectors drive the whole register path: header values in, the
// answer's secWebSocketProtocol / secWebSocketExtensions out ("" = key omitted).
var negotiationVectors = map[string]struct {
	protocols  string // client's Sec-WebSocket-Protocol ("" = absent)
	extensions string // client's Sec-WebSocket-Extensions ("" = absent)
	opts       RegisterOptions
	wantProto  string
	wantExt    string
	wantErrNo  int
}{
	"no offer":                         {"", "", RegisterOptions{Subprotocols: []string{"chat"}}, "", "", 0},
	"single match":                     {"chat", "", RegisterOptions{Subprotocols: []string{"chat"}}, "chat", "", 0},
	"server preference wins":           {"chat,superchat", "", RegisterOptions{Subprotocols: []string{"superchat", "chat"}}, "superchat", "", 0},
	"empty elements":                   {"chat,,superchat", "", RegisterOptions{Subprotocols: []string{"superchat"}}, "superchat", "", 0},
	"tabs and spaces":                  {" \tchat \t,\t superchat\t", "", RegisterOptions{Subprotocols: []string{"superchat"}}, "superchat", "", 0},
	"duplicates":                       {"chat, chat, chat", "", RegisterOptions{Subprotocols: []string{"chat"}}, "chat", "", 0},
	"non-token dropped":                {`chat v2, "quoted", sup/er, ok`, "", RegisterOptions{Subprotocols: []string{"chat v2", "sup/er", "ok"}}, "ok", "", 0},
	"case sensitive":                   {"Chat", "", RegisterOptions{Subprotocols: []string{"chat"}}, "", "", 0},
	"no server list never echoes":      {"chat,binary", "", RegisterOptions{}, "", "", 0},
	"required, none offered":           {"", "", RegisterOptions{Subprotocols: []string{"chat"}, RequireSubprotocol: true}, "", "", 0},
	"required, no match":               {"mqtt", "", RegisterOptions{Subprotocols: []string{"chat"}, RequireSubprotocol: true}, "", "", ErrUnsupportedSubprotocol.ErrNo},
	"only commas":                      {",,, ,", "", RegisterOptions{Subprotocols: []string{"chat"}, RequireSubprotocol: true}, "", "", 0},
	"extensions off by default":        {"", "permessage-deflate", RegisterOptions{}, "", "", 0},
	"deflate bare":                     {"", "permessage-deflate", deflateOn, "", "permessage-deflate", 0},
	"deflate client bits no value":     {"", "permessage-deflate; client_max_window_bits", deflateOn, "", "permessage-deflate", 0},
	"deflate client bits value":        {"", "permessage-deflate; client_max_window_bits=10", deflateOn, "", "permessage-deflate; client_max_window_bits=10", 0},
	"deflate server bits":              {"", "permessage-deflate;server_max_window_bits=9", deflateOn, "", "permessage-deflate; server_max_window_bits=9", 0},
	"deflate server bits leading zero": {"", "permessage-deflate; server_max_window_bits=08", deflateOn, "", "", 0},
	"deflate server bits no value":     {"", "permessage-deflate; server_max_window_bits", deflateOn, "", "", 0},
	"deflate server bits too big":      {"", "permessage-deflate; server_max_window_bits=16", deflateOn, "", "", 0},
	"deflate server bits too small":    {"", "permessage-deflate; server_max_window_bits=7", deflateOn, "", "", 0},
	"deflate quoted value":             {"", `permessage-deflate; server_max_window_bits="10"`, deflateOn, "", "permessage-deflate; server_max_window_bits=10", 0},
	"deflate no context takeover":      {"", "permessage-deflate; server_no_context_takeover; client_no_context_takeover", deflateOn, "", "permessage-deflate; server_no_context_takeover", 0},
	"deflate value on nct":             {"", "permessage-deflate; server_no_context_takeover=1", deflateOn, "", "", 0},
	"deflate duplicate param":          {"", "permessage-deflate; client_max_window_bits; client_max_window_bits", deflateOn, "", "", 0},
	"deflate unknown param":            {"", "permessage-deflate; foo", deflateOn, "", "", 0},
	"second offer valid":               {"", "permessage-deflate; server_max_window_bits=08, permessage-deflate; client_max_window_bits", deflateOn, "", "permessage-deflate", 0},
	"quoted comma in other ext":        {"", `foo; bar="b,a;z", permessage-deflate`, deflateOn, "", "permessage-deflate", 0},
	"leading comma":                    {"", ", permessage-deflate", deflateOn, "", "permessage-deflate", 0},
	"not offered never answered":       {"", "x-webkit-deflate-frame", deflateOn, "", "", 0},
	"unterminated quote":               {"", `permessage-deflate; server_max_window_bits="10`, deflateOn, "", "", 0},
	"all parameters":                   {"chat", "permessage-deflate; server_no_context_takeover; server_max_window_bits=15; client_max_window_bits=8", RegisterOptions{Subprotocols: []string{"chat"}, Extensions: []string{"permessage-deflate"}}, "chat", "permessage-deflate; server_no_context_takeover; server_max_window_bits=15; client_max_window_bits=8", 0},
	"other extension accepted bare":    {"", "x-test; a=1, x-test", RegisterOptions{Extensions: []string{"x-test"}}, "", "x-test", 0},
}

var deflateOn = RegisterOptions{Extensions: []string{"permessage-deflate"}}

func TestNegotiation(t *testing.T) {
	for name, tc := range negotiationVectors {
		t.Run(name, func(t *testing.T) {
			ws := map[string]string{"action": "connecting", "secConnectionID": "CQ1RaJAf4vzaVAkNUdHLZA=="}
			if tc.protocols != "" {
				ws["secWebSocketProtocol"] = tc.protocols
			}
			if tc.extensions != "" {
				ws["secWebSocketExtensions"] = tc.extensions
			}
			payload, err := json.Marshal(map[string]any{"requestContext": map[string]any{}, "websocket": ws})
			require.NoError(t, err)
			opts := tc.opts
			out, err := NewRegisterHandler(nil, &opts).Invoke(context.Background(), payload)
			require.NoError(t, err)

			var raw struct {
				ErrNo     int                        `json:"errNo"`
				WebSocket map[string]json.RawMessage `json:"websocket"`
			}
			require.NoError(t, json.Unmarshal(out, &raw))
			assert.Equal(t, tc.wantErrNo, raw.ErrNo)
			if tc.wantErrNo != 0 {
				return
			}
			assertKey(t, tc.wantProto, raw.WebSocket, "secWebSocketProtocol")
			assertKey(t, tc.wantExt, raw.WebSocket, "secWebSocketExtensions")
		})
	}
}

// assertKey checks a string key of the answer; want "" means the key is absent.
func assertKey(t *testing.T, want string, ws map[string]json.RawMessage, key string) {
	t.Helper()
	got, ok := ws[key]
	if want == "" {
		assert.False(t, ok, "%s must be omitted, got %s", key, got)
		return
	}
	wantJSON, _ := json.Marshal(want)
	assert.Equal(t, string(wantJSON), string(got))
}

func TestParseExtensions(t *testing.T) {
	cases := map[string][]wsheader.Extension{
		"":                        nil,
		"  ,  ":                   nil,
		"a":                       {{Name: "a"}},
		"a;b":                     {{Name: "a", Params: []wsheader.ExtensionParam{{Name: "b"}}}},
		"a ; b = 1 ; c=\"x\\yz\"": {{Name: "a", Params: []wsheader.ExtensionParam{{Name: "b", Value: "1", HasValue: true}, {Name: "c", Value: "xyz", HasValue: true}}}},
		`foo; bar="b,a;z", baz`:   {{Name: "baz"}},
		"a;;b, c":                 {{Name: "c"}},
		"a=1, c":                  {{Name: "c"}},
		"a; b=, c":                {{Name: "c"}},
		`a; b="", c`:              {{Name: "c"}},
	}
	for in, want := range cases {
		t.Run(in, func(t *testing.T) {
			assert.Equal(t, want, wsheader.ParseExtensions(in))
		})
	}
}

func TestExtensionString(t *testing.T) {
	e := wsheader.Extension{Name: "permessage-deflate", Params: []wsheader.ExtensionParam{
		{Name: "client_max_window_bits"}, {Name: "server_max_window_bits", Value: "10", HasValue: true}}}
	assert.Equal(t, "permessage-deflate; client_max_window_bits; server_max_window_bits=10", e.String())
}
