// Package wsheader parses the WebSocket handshake's negotiation headers
// (Sec-WebSocket-Protocol, Sec-WebSocket-Extensions) as RFC 6455 §4 and
// §9.1 and RFC 7230 write them: lenient when reading, each parser linear in
// its input. Package scfws negotiates with them; the gateway core checks
// answers with them.
package wsheader

import (
	"slices"
	"strings"
)

// ParseSubprotocols parses a Sec-WebSocket-Protocol header value, such as
// the register event's secWebSocketProtocol: a comma-separated list with
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
		if !IsToken(elem) {
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

// Extension is one element of a Sec-WebSocket-Extensions list.
type Extension struct {
	// Name is the extension token, e.g. "permessage-deflate".
	Name string
	// Params are its parameters in order; a quoted value is unescaped.
	Params []ExtensionParam
}

// ExtensionParam is one parameter of an [Extension].
type ExtensionParam struct {
	// Name is the parameter's token.
	Name string
	// Value is the parameter's value, "" when it has none (see HasValue).
	Value string
	// HasValue tells "param" (false) from "param=value" (true).
	HasValue bool
}

// String formats e as a header element: name, then "; param" or "; param=value".
func (e Extension) String() string {
	var b strings.Builder
	b.WriteString(e.Name)
	for _, p := range e.Params {
		b.WriteString("; ")
		b.WriteString(p.Name)
		if p.HasValue {
			b.WriteByte('=')
			b.WriteString(p.Value)
		}
	}
	return b.String()
}

// ParseExtensions parses a Sec-WebSocket-Extensions header value (RFC 6455
// §9.1), such as the register event's secWebSocketExtensions: a comma-separated list of offers, each a token followed by
// "; param" or "; param=value" where value is a token or a quoted string
// (commas and semicolons inside quotes do not split). A malformed offer, or
// one whose quoted value is not a token once unescaped, is dropped and
// parsing goes on with the next. It returns nil when no valid offer remains.
func ParseExtensions(header string) []Extension {
	p := extParser{s: header}
	var out []Extension
	for !p.done() {
		if ext, ok := p.extension(); ok {
			out = append(out, ext)
		} else {
			p.skipElement()
		}
	}
	return out
}

type extParser struct {
	s string
	i int
}

func (p *extParser) done() bool {
	for p.i < len(p.s) && (isOWS(p.s[p.i]) || p.s[p.i] == ',') {
		p.i++
	}
	return p.i >= len(p.s)
}

func (p *extParser) ows() {
	for p.i < len(p.s) && isOWS(p.s[p.i]) {
		p.i++
	}
}

func (p *extParser) token() string {
	start := p.i
	for p.i < len(p.s) && isTokenChar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

// quoted reads a quoted-string starting at the opening quote.
func (p *extParser) quoted() (string, bool) {
	var b strings.Builder
	for p.i++; p.i < len(p.s); p.i++ {
		switch c := p.s[p.i]; c {
		case '"':
			p.i++
			return b.String(), true
		case '\\':
			p.i++
			if p.i >= len(p.s) {
				return "", false
			}
			b.WriteByte(p.s[p.i])
		default:
			b.WriteByte(c)
		}
	}
	return "", false
}

// extension reads one offer; on false the caller skips to the next element.
func (p *extParser) extension() (Extension, bool) {
	ext := Extension{Name: p.token()}
	if ext.Name == "" {
		return ext, false
	}
	for {
		p.ows()
		if p.i >= len(p.s) || p.s[p.i] == ',' {
			return ext, true
		}
		if p.s[p.i] != ';' {
			return ext, false
		}
		p.i++
		p.ows()
		param := ExtensionParam{Name: p.token()}
		if param.Name == "" {
			return ext, false
		}
		p.ows()
		if p.i < len(p.s) && p.s[p.i] == '=' {
			p.i++
			p.ows()
			param.HasValue = true
			if p.i < len(p.s) && p.s[p.i] == '"' {
				v, ok := p.quoted()
				if !ok || !IsToken(v) {
					return ext, false
				}
				param.Value = v
			} else if param.Value = p.token(); param.Value == "" {
				return ext, false
			}
		}
		ext.Params = append(ext.Params, param)
	}
}

// skipElement moves past the rest of a malformed element, to the next comma
// outside quotes.
func (p *extParser) skipElement() {
	inQuote := false
	for ; p.i < len(p.s); p.i++ {
		switch c := p.s[p.i]; {
		case inQuote && c == '\\':
			p.i++
		case c == '"':
			inQuote = !inQuote
		case !inQuote && c == ',':
			return
		}
	}
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

// IsToken reports whether s is an RFC 7230 token.
func IsToken(s string) bool {
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
