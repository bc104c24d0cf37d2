package main

import (
	"archive/zip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

func pack(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("scfws package", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "output `zip` (default: the package's base name + .zip)")
	name := fs.String("name", "main", "binary `name` in the zip: the function's handler (执行方法)")
	if err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("package: give one main package, e.g. ./examples/chatroom")
	}
	pkg := fs.Arg(0)
	if *out == "" {
		*out = filepath.Base(strings.TrimRight(pkg, "/")) + ".zip"
	}
	if *name == "" || *name == "." || *name == ".." || strings.ContainsAny(*name, `/\`) {
		return fmt.Errorf("package: -name %q must be a plain file name", *name)
	}

	tmp, err := os.MkdirTemp("", "scfws-package-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, *name)
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, pkg)
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("package: go build %s: %w", pkg, err)
	}
	if err := zipBinary(*out, bin, *name); err != nil {
		return fmt.Errorf("package: %w", err)
	}
	st, err := os.Stat(*out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %s (%d bytes): upload it as the function's code, handler %q\n", *out, *name, st.Size(), *name)
	return nil
}

// zipBinary writes a zip holding bin as name, executable, to a temporary
// file beside out, renamed to out only once complete.
func zipBinary(out, bin, name string) (err error) {
	f, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		err = errors.Join(err, f.Chmod(0o644), f.Close())
		if err == nil {
			err = os.Rename(f.Name(), out)
		}
		if err != nil {
			_ = os.Remove(f.Name())
		}
	}()
	src, err := os.Open(bin)
	if err != nil {
		return err
	}
	defer src.Close()
	zw := zip.NewWriter(f)
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Now()}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, src); err != nil {
		return err
	}
	return zw.Close()
}
