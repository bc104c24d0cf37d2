package scfws

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/scfws/scfws-go/internal/wsheader"
)

// Negotiation follows RFC 6455 §4 and §9.1 and RFC 7692 §7: lenient when
// reading what the client offered (package internal/wsheader), strict in
// what is answered.

// negotiate fills ev.Negotiated from the client's offers and opts.
func negotiate(ev *RegisterEvent, opts *RegisterOptions) error {
	if offered := wsheader.ParseSubprotocols(ev.WebSocket.SecWebSocketProtocol); len(offered) > 0 {
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
		ev.Negotiated.Extensions = negotiateExtensions(wsheader.ParseExtensions(ev.WebSocket.SecWebSocketExtensions), opts.Extensions)
	}
	return nil
}

// negotiateExtensions picks the answer to the client's extension offers:
// the first offer, in the client's order, whose name is in accepted and whose
// parameters are valid for it. permessage-deflate parameters are checked per
// RFC 7692 §7; any other accepted extension is taken only when offered without
// parameters. It returns "" when nothing is accepted, and never an extension
// the client did not offer.
func negotiateExtensions(offers []wsheader.Extension, accepted []string) string {
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
func negotiateDeflate(off wsheader.Extension) (string, bool) {
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
func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
