package scfws

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

// TestExcerptCutsAtACharacter: a long answer is cut to at most 512 bytes,
// never inside a character, and marked.
func TestExcerptCutsAtACharacter(t *testing.T) {
	long := strings.Repeat("a", 511) + "é" + strings.Repeat("b", 100) // é straddles byte 512
	got := excerpt([]byte(long))
	assert.True(t, utf8.ValidString(got), "%q", got[500:])
	assert.Equal(t, strings.Repeat("a", 511)+"…", got)
	assert.Equal(t, "short", excerpt([]byte("short")))
}
