// Package testnote tells the person running the tests what a test could
// not do as meant (a browser test skipped, Redis replaced by miniredis):
// go test prints nothing of a passing package without -v, so the line also
// goes to the terminal, when there is one.
package testnote

import (
	"fmt"
	"io"
	"os"
)

// Say writes msg to w and to the controlling terminal, if any.
func Say(w io.Writer, msg string) {
	fmt.Fprintln(w, msg)
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		fmt.Fprintln(tty, msg)
		_ = tty.Close()
	}
}
