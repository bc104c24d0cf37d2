package scfws

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/scfws/scfws-go/internal/benchtest"
	"github.com/scfws/scfws-go/internal/wsheader"
)

func TestLenientStringShapes(t *testing.T) {
	cases := map[string]string{
		`"a"`: "a", `"a\"b\\\\c"`: `a"b\\c`, `3`: "3", `true`: "true", `{"x":[1,"]"]}`: `{"x":[1,"]"]}`,
		`["a","b"]`: "a,b", `[ "a" , null , "b" ]`: "a,,b", `[["a",["b"]],"c"]`: "a,b,c", `[[],"a"]`: ",a",
		`[{"k":"v,]"},2,false]`: `{"k":"v,]"},2,false`, `["\u00e9\"]"]`: `é"]`, `[]`: "",
	}
	for in, want := range cases {
		got, ok := lenientString(json.RawMessage(in))
		assert.True(t, ok, in)
		assert.Equal(t, want, got, in)
	}
	_, ok := lenientString(json.RawMessage(`null`))
	assert.False(t, ok)
}

// registerWith is a register event whose websocket object and headers hold
// the given raw JSON fragments.
func registerWith(protocols, extensions, headers string) []byte {
	return []byte(`{"requestContext":{"requestId":"r"},"headers":` + headers +
		`,"websocket":{"action":"connecting","secConnectionID":"a","secWebSocketProtocol":` + protocols +
		`,"secWebSocketExtensions":` + extensions + `}}`)
}

// TestDecodingIsLinear: every parser and decoder of the register path costs
// time linear in its input (×10 input, at most ~×15 CPU), and an input of a
// megabyte or so stays far under a second, including the shapes that were
// once quadratic: long subprotocol lists full of repeats, long header
// arrays, deeply nested arrays.
func TestDecodingIsLinear(t *testing.T) {
	h := NewRegisterHandler(nil, &RegisterOptions{Subprotocols: []string{"chat"}, Extensions: []string{"permessage-deflate"}})
	invoke := func(payload []byte) {
		if _, err := h.Invoke(context.Background(), payload); err != nil {
			t.Fatal(err)
		}
	}
	quote := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	paths := map[string]struct {
		n int
		f func(n int)
	}{
		"ParseSubprotocols, distinct": {10000, func(n int) {
			var b strings.Builder
			for i := range n {
				b.WriteString("p" + strconv.Itoa(i) + ",")
			}
			wsheader.ParseSubprotocols(b.String())
		}},
		"ParseSubprotocols, repeats": {10000, func(n int) { wsheader.ParseSubprotocols(strings.Repeat("a,b,c, ", n)) }},
		"ParseExtensions":            {5000, func(n int) { wsheader.ParseExtensions(strings.Repeat(`x; a="b,c"; d=1, `, n)) }},
		"negotiate extensions": {5000, func(n int) {
			negotiateExtensions(wsheader.ParseExtensions(strings.Repeat("permessage-deflate; x, ", n)), []string{"permessage-deflate"})
		}},
		"register, protocol list": {10000, func(n int) {
			var b strings.Builder
			for i := range n {
				b.WriteString("proto" + strconv.Itoa(i) + ", ")
			}
			invoke(registerWith(quote(b.String()), `""`, `{}`))
		}},
		"register, extension list": {5000, func(n int) {
			invoke(registerWith(`""`, quote(strings.Repeat("permessage-deflate; server_max_window_bits=08, ", n)), `{}`))
		}},
		"register, header array": {10000, func(n int) {
			invoke(registerWith(`""`, `""`, `{"h":[`+strings.TrimSuffix(strings.Repeat(`"value",`, n), ",")+`]}`))
		}},
		"register, nested arrays": {800, func(n int) {
			invoke(registerWith(`""`, `""`, `{"h":`+strings.Repeat("[", n)+`"x"`+strings.Repeat("]", n)+`}`))
		}},
		"register, many headers": {5000, func(n int) {
			var b strings.Builder
			b.WriteString("{")
			for i := range n {
				if i > 0 {
					b.WriteString(",")
				}
				b.WriteString(`"h` + strconv.Itoa(i) + `":"v"`)
			}
			b.WriteString("}")
			invoke(registerWith(`""`, `""`, b.String()))
		}},
	}
	for name, p := range paths {
		t.Run(name, func(t *testing.T) { benchtest.Linear(t, p.n, time.Second, p.f) })
	}
}
