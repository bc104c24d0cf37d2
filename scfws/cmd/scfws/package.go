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
	webfunc := fs.Bool("webfunc", false, "for a Web function: add the scf_bootstrap that starts the binary (a program on package host)")
	if err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("package: give one main package, e.g. ./examples/chatroom")
	}
	pkg := fs.Arg(0)
	if *out == "" {
		abs, err := filepath.Abs(pkg) // "." is named after its folder
		if err != nil {
			return fmt.Errorf("package: %w", err)
		}
		*out = filepath.Base(abs) + ".zip"
	}
	if *name == "" || *name == "." || *name == ".." || strings.ContainsAny(*name, `/\`) {
		return fmt.Errorf("package: -name %q must be a plain file name", *name)
	}

	files, cleanup, err := build(ctx, pkg, *name, *webfunc, stderr)
	if err != nil {
		return fmt.Errorf("package: %w", err)
	}
	defer cleanup()
	if err := writeZip(*out, files); err != nil {
		return fmt.Errorf("package: %w", err)
	}
	st, err := os.Stat(*out)
	if err != nil {
		return err
	}
	if *webfunc {
		fmt.Fprintf(stdout, "%s: %s and scf_bootstrap (%d bytes): upload it as a Web function's code (WebSocket on)\n", *out, *name, st.Size())
		return nil
	}
	fmt.Fprintf(stdout, "%s: %s (%d bytes): upload it as the function's code, handler %q\n", *out, *name, st.Size(), *name)
	return nil
}

// build is goBuild; the tests share one build of each package among them.
var build = goBuild

// goBuild compiles pkg for SCF (linux/amd64, static, stripped) into a
// temporary folder, as name; the files of the zip are that binary and, for
// a Web function, its scf_bootstrap. cleanup removes the folder.
func goBuild(ctx context.Context, pkg, name string, webfunc bool, stderr io.Writer) ([]zipFile, func(), error) {
	tmp, err := os.MkdirTemp("", "scfws-package-")
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() { _ = os.RemoveAll(tmp) }
	bin := filepath.Join(tmp, name)
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, pkg)
	if st, err := os.Stat(pkg); err == nil && st.IsDir() {
		cmd.Args[len(cmd.Args)-1], cmd.Dir = ".", pkg // a folder builds in its own module
	}
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Run(); err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("go build %s: %w", pkg, err)
	}
	files := []zipFile{{name: name, path: bin}}
	if webfunc {
		files = append(files, zipFile{name: "scf_bootstrap", data: []byte(bootstrap(name))})
	}
	return files, cleanup, nil
}

// bootstrap is the Web function's start-up file for the binary name: bash,
// LF line ends, the binary started by its absolute path (SCF's
// scf_bootstrap page asks for absolute paths in the start command), found
// from the bootstrap's own folder. The program learns that it runs in a
// Web function from SCF's own TENCENTCLOUD_RUNENV=SCF.
func bootstrap(name string) string {
	return "#!/bin/bash\n" +
		"# Started by SCF in a Web function; the program listens on 0.0.0.0:${PORT:-9000}.\n" +
		"dir=\"$(cd \"$(dirname \"$0\")\" && pwd)\" || exit 1\n" +
		"cd \"$dir\" || exit 1\n" +
		"exec \"$dir/" + name + "\"\n"
}

// zipFile is one executable file of the zip: a file at path, or data.
type zipFile struct {
	name, path string
	data       []byte
}

// writeZip writes a zip of files to a temporary file beside out, renamed
// to out only once complete.
func writeZip(out string, files []zipFile) (err error) {
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
	return zipTo(f, files, time.Now())
}

// zipTo writes a zip of files, each executable (0755, whatever the file
// system says) and dated modified.
func zipTo(w io.Writer, files []zipFile, modified time.Time) error {
	zw := zip.NewWriter(w)
	for _, zf := range files {
		h := &zip.FileHeader{Name: zf.name, Method: zip.Deflate, Modified: modified}
		h.SetMode(0o755)
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		if err := zf.copyTo(fw); err != nil {
			return err
		}
	}
	return zw.Close()
}

// copyTo writes the file's content to w.
func (zf zipFile) copyTo(w io.Writer) error {
	if zf.path == "" {
		_, err := w.Write(zf.data)
		return err
	}
	src, err := os.Open(zf.path)
	if err != nil {
		return err
	}
	defer src.Close()
	_, err = io.Copy(w, src)
	return err
}
