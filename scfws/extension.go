package scfws

import (
	"strconv"
	"strings"
)

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
// §9.1), such as [RegisterWebSocket].SecWebSocketExtensions: a comma-separated list of offers, each a token followed by
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
				if !ok || !isToken(v) {
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

// negotiateExtensions picks the answer to the client's extension offers:
// the first offer, in the client's order, whose name is in accepted and whose
// parameters are valid for it. permessage-deflate parameters are checked per
// RFC 7692 §7; any other accepted extension is taken only when offered without
// parameters. It returns "" when nothing is accepted, and never an extension
// the client did not offer.
func negotiateExtensions(offers []Extension, accepted []string) string {
	for _, off := range offers {
		if !containsFold(accepted, off.Name) {
			continue
		}
		if strings.EqualFold(off.Name, permessageDeflate) {
			if ans, ok := negotiateDeflate(off); ok {
				return ans
			}
			continue
		}
		if len(off.Params) == 0 {
			return off.Name
		}
	}
	return ""
}

const permessageDeflate = "permessage-deflate"

// negotiateDeflate validates one permessage-deflate offer (RFC 7692 §7.1) and
// builds the answer: server_no_context_takeover and server_max_window_bits=N
// when the offer asked for them, client_max_window_bits=N when the offer gave
// it a value. client_no_context_takeover is never answered (it is optional).
func negotiateDeflate(off Extension) (string, bool) {
	var seen [4]bool
	var serverNCT bool
	var serverBits, clientBits string
	for _, p := range off.Params {
		switch p.Name {
		case "server_no_context_takeover", "client_no_context_takeover":
			if p.HasValue {
				return "", false
			}
			if p.Name == "server_no_context_takeover" {
				if seen[0] {
					return "", false
				}
				seen[0], serverNCT = true, true
			} else {
				if seen[1] {
					return "", false
				}
				seen[1] = true
			}
		case "server_max_window_bits":
			if seen[2] || !p.HasValue || !validWindowBits(p.Value) {
				return "", false
			}
			seen[2], serverBits = true, p.Value
		case "client_max_window_bits":
			if seen[3] || (p.HasValue && !validWindowBits(p.Value)) {
				return "", false
			}
			seen[3], clientBits = true, p.Value
		default:
			return "", false
		}
	}
	ans := permessageDeflate
	if serverNCT {
		ans += "; server_no_context_takeover"
	}
	if serverBits != "" {
		ans += "; server_max_window_bits=" + serverBits
	}
	if clientBits != "" {
		ans += "; client_max_window_bits=" + clientBits
	}
	return ans, true
}

// validWindowBits: a decimal 8..15 without leading zeros (RFC 7692 §7.1.2).
func validWindowBits(v string) bool {
	if v == "" || v[0] == '0' {
		return false
	}
	n, err := strconv.Atoi(v)
	return err == nil && n >= 8 && n <= 15 && strconv.Itoa(n) == v
}
