package scfws

import (
	"fmt"
	"slices"
	"strings"
)

// Negotiation follows RFC 6455 §4 and §9.1 and RFC 7692 §7: lenient when
// reading what the client offered, strict in what is answered.

// ParseSubprotocols parses a Sec-WebSocket-Protocol header value, such as
// [RegisterWebSocket].SecWebSocketProtocol: a comma-separated list with
// optional spaces and tabs. Empty elements and elements that are not RFC 7230
// tokens are dropped, and so are repeats of an element already seen. It
// returns nil when nothing valid remains. Its cost is linear in the header.
func ParseSubprotocols(header string) []string {
	var out []string
	var seen map[string]struct{} // for long lists only
	for len(header) > 0 {
		var elem string
		elem, header, _ = strings.Cut(header, ",")
		elem = trimOWS(elem)
		if !isToken(elem) {
			continue
		}
		if seen == nil && len(out) >= 16 {
			seen = make(map[string]struct{}, 2*len(out))
			for _, e := range out {
				seen[e] = struct{}{}
			}
		}
		if seen != nil {
			if _, dup := seen[elem]; dup {
				continue
			}
			seen[elem] = struct{}{}
		} else if slices.Contains(out, elem) {
			continue
		}
		out = append(out, elem)
	}
	return out
}

// negotiate fills ev.Negotiated from the client's offers and opts.
func negotiate(ev *RegisterEvent, opts *RegisterOptions) error {
	if offered := ParseSubprotocols(ev.WebSocket.SecWebSocketProtocol); len(offered) > 0 {
		for _, s := range opts.Subprotocols {
			if slices.Contains(offered, s) {
				ev.Negotiated.Subprotocol = s
				break
			}
		}
		if ev.Negotiated.Subprotocol == "" && opts.RequireSubprotocol {
			return fmt.Errorf("%w: offered %q, supported %q", ErrUnsupportedSubprotocol, offered, opts.Subprotocols)
		}
	}
	if len(opts.Extensions) > 0 && ev.WebSocket.SecWebSocketExtensions != "" {
		ev.Negotiated.Extensions = negotiateExtensions(ParseExtensions(ev.WebSocket.SecWebSocketExtensions), opts.Extensions)
	}
	return nil
}

func isOWS(c byte) bool { return c == ' ' || c == '\t' }

func trimOWS(s string) string { return strings.Trim(s, " \t") }

// isTokenChar reports whether c is a tchar of RFC 7230 §3.2.6.
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
