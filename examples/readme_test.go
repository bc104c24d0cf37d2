// Package examples holds the runnable examples; this test keeps the code in
// the READMEs compiling.
package examples

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// block is a ```go block, with the file named by the <!-- file: … -->
// comment on the line before it.
var block = regexp.MustCompile("(?s)(<!-- file: ([^ ]+) -->\n)?```go\n(.*?)```")

// TestReadmeCodeCompiles: every Go block in the READMEs names the source
// file it is taken from, and stands in that file as it is, so `go vet ./...`
// compiles it.
func TestReadmeCodeCompiles(t *testing.T) {
	for _, readme := range []string{"../README.md", "../README.zh-CN.md"} {
		b, err := os.ReadFile(readme)
		require.NoError(t, err)
		blocks := block.FindAllStringSubmatch(string(b), -1)
		require.NotEmpty(t, blocks, readme)
		for _, m := range blocks {
			file, code := m[2], m[3]
			if !assert.NotEmpty(t, file, "%s: a ```go block without <!-- file: … -->:\n%s", readme, code) {
				continue
			}
			src, err := os.ReadFile("../" + file)
			require.NoError(t, err, "%s names %s", readme, file)
			assert.True(t, strings.Contains(string(src), code), "%s: the block is not in %s as written:\n%s", readme, file, code)
		}
	}
}
