package scfws

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// scanner reads JSON in one pass: it validates everything it reads or
// skips, as encoding/json would, and decodes only what an event needs.
type scanner struct {
	b     []byte
	i     int
	depth int
	err   error
}

var errSyntax = errors.New("invalid JSON")

const maxDepth = 10000 // as encoding/json

func (s *scanner) fail() {
	if s.err == nil {
		s.err = errSyntax
	}
	s.i = len(s.b)
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// atEnd reports whether only spaces are left.
func (s *scanner) atEnd() bool {
	s.space()
	return s.i >= len(s.b)
}

// peek returns the next non-space byte, 0 at the end (see atEnd: a NUL
// byte is not the end).
func (s *scanner) peek() byte {
	s.space()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// literal consumes lit.
func (s *scanner) literal(lit string) {
	if !bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
		s.fail()
		return
	}
	s.i += len(lit)
}

// null consumes a null if that comes next.
func (s *scanner) null() bool {
	if s.peek() != 'n' {
		return false
	}
	s.literal("null")
	return true
}

// rawString consumes a string and returns its bytes between the quotes,
// and whether it holds escapes or bytes that need decoding.
func (s *scanner) rawString() (raw []byte, plain bool) {
	if s.peek() != '"' {
		s.fail()
		return nil, true
	}
	start := s.i + 1
	plain = true
	for i := start; i < len(s.b); i++ {
		switch c := s.b[i]; {
		case c == '"':
			s.i = i + 1
			return s.b[start:i], plain
		case c == '\\':
			plain = false
			i++
			if i >= len(s.b) {
				break
			}
			switch s.b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(s.b) || !isHex4(s.b[i+1:i+5]) {
					s.fail()
					return nil, true
				}
				i += 4
			default:
				s.fail()
				return nil, true
			}
		case c < 0x20:
			s.fail()
			return nil, true
		case c >= utf8.RuneSelf:
			plain = false
		}
	}
	s.fail()
	return nil, true
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// str consumes a string and decodes it as encoding/json does (invalid
// UTF-8 becomes U+FFFD).
func (s *scanner) str() string {
	start := s.i
	raw, plain := s.rawString()
	if s.err != nil {
		return ""
	}
	if plain || (bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw)) {
		return string(raw)
	}
	var out string
	_ = json.Unmarshal(s.b[start:s.i], &out) // validated above
	return out
}

// key consumes an object key and the colon after it.
func (s *scanner) key() []byte {
	start := s.i
	raw, plain := s.rawString()
	if !plain && s.err == nil {
		var k string
		_ = json.Unmarshal(s.b[start:s.i], &k)
		raw = []byte(k)
	}
	if s.peek() != ':' {
		s.fail()
		return nil
	}
	s.i++
	return raw
}

// object consumes an object, calling member for each key; member must
// consume the value. It reports false (consuming nothing) when the next
// value is not an object.
func (s *scanner) object(member func(key []byte)) bool {
	if s.peek() != '{' {
		return false
	}
	if s.depth++; s.depth > maxDepth {
		s.fail()
		return true
	}
	s.i++
	if s.peek() == '}' {
		s.i++
		s.depth--
		return true
	}
	for s.err == nil {
		s.space()
		member(s.key())
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			s.depth--
			return true
		default:
			s.fail()
		}
	}
	return true
}

// skip consumes any value, validating it, and returns its bytes.
func (s *scanner) skip() []byte {
	start := s.peekStart()
	switch s.peek() {
	case '{':
		s.object(func([]byte) { s.skip() })
	case '[':
		if s.depth++; s.depth > maxDepth {
			s.fail()
			break
		}
		s.i++
		if s.peek() == ']' {
			s.i++
		} else {
			for s.err == nil {
				s.skip()
				if c := s.peek(); c == ',' {
					s.i++
				} else if c == ']' {
					s.i++
					break
				} else {
					s.fail()
				}
			}
		}
		s.depth--
	case '"':
		s.rawString()
	case 't':
		s.literal("true")
	case 'f':
		s.literal("false")
	case 'n':
		s.literal("null")
	default:
		s.number()
	}
	if s.err != nil {
		return nil
	}
	return s.b[start:s.i]
}

func (s *scanner) peekStart() int {
	s.space()
	return s.i
}

// number consumes a number: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?
func (s *scanner) number() {
	b, i := s.b, s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if i = digits(b, i); i < 0 {
		s.fail()
		return
	}
	if i < len(b) && b[i] == '.' {
		if i = digits(b, i+1); i < 0 {
			s.fail()
			return
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i = digits(b, i); i < 0 {
			s.fail()
			return
		}
	}
	s.i = i
}

// digits skips one or more decimal digits from i; -1 when there is none.
func digits(b []byte, i int) int {
	start := i
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	if i == start {
		return -1
	}
	return i
}

// strOrNull consumes a string or null ("" then) into *dst; another kind of
// value is a type mismatch: it is consumed and reported false.
func (s *scanner) strOrNull(dst *string) bool {
	switch s.peek() {
	case '"':
		*dst = s.str()
		return true
	case 'n':
		s.literal("null")
		return true
	}
	s.skip()
	return false
}
