package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestMain shares one build of each package among the tests (deploying
// the same example a dozen times need not link it a dozen times), then
// removes them.
func TestMain(m *testing.M) {
	var (
		mu    sync.Mutex
		built = map[string][]zipFile{}
		dirs  []func()
	)
	build = func(ctx context.Context, pkg, name string, webfunc bool, stderr io.Writer) ([]zipFile, func(), error) {
		abs, err := filepath.Abs(pkg)
		if err != nil {
			return nil, nil, err
		}
		key := fmt.Sprint(abs, name, webfunc)
		mu.Lock()
		defer mu.Unlock()
		if files, ok := built[key]; ok {
			return files, func() {}, nil
		}
		files, cleanup, err := goBuild(ctx, pkg, name, webfunc, stderr)
		if err != nil {
			return nil, nil, err
		}
		built[key], dirs = files, append(dirs, cleanup)
		return files, func() {}, nil
	}
	code := m.Run()
	for _, cleanup := range dirs {
		cleanup()
	}
	os.Exit(code)
}
