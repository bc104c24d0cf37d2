package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPackageWebfunc packages the chat room for a Web function, unpacks the
// zip as SCF would (modes from the zip), checks the bootstrap, runs it with
// a PORT, and chats with what it started.
func TestPackageWebfunc(t *testing.T) {
	out := filepath.Join(t.TempDir(), "chat.zip")
	var stdout, stderr bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"package", "-webfunc", "../../../examples/chatroom", "-o", out},
		&stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), "scf_bootstrap")

	files := unzipAsSCF(t, out)
	names := map[string]bool{}
	for name, b := range files {
		names[name] = true
		if name == "scf_bootstrap" {
			assert.True(t, bytes.HasPrefix(b, []byte("#!/bin/bash\n")), "a bash script")
			assert.NotContains(t, string(b), "\r", "LF line ends")
			assert.Contains(t, string(b), "exec \"$dir/main\"\n", "the binary by its absolute path")
			assert.NotContains(t, string(b), "SCFWS_WEBFUNC", "nothing only the chat room reads")
		}
	}
	assert.Equal(t, map[string]bool{"main": true, "scf_bootstrap": true}, names)

	c := bootstrap1(t, out, "scfws-chat.v1", "REDIS_URL=", "REDIS_ADDR=")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(`{"type":"hello","nick":"ann"}`)))
	_, b, err := c.Read(ctx)
	require.NoError(t, err)
	var welcome struct{ Type, Nick string }
	require.NoError(t, json.Unmarshal(b, &welcome))
	assert.Equal(t, "welcome", welcome.Type)
	assert.Equal(t, "ann", welcome.Nick)
}

// unzipAsSCF unpacks a zip into a folder of its own with the zip's modes,
// each file 0755 as a Web function needs; it returns the files' contents.
func unzipAsSCF(t *testing.T, zipPath string) map[string][]byte {
	t.Helper()
	zr, err := zip.OpenReader(zipPath)
	require.NoError(t, err)
	defer zr.Close()
	dir := filepath.Join(filepath.Dir(zipPath), "unzipped")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	files := map[string][]byte{}
	for _, f := range zr.File {
		assert.Equal(t, os.FileMode(0o755), f.Mode().Perm(), f.Name)
		rc, err := f.Open()
		require.NoError(t, err)
		b, err := io.ReadAll(rc)
		rc.Close()
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f.Name), b, f.Mode().Perm()))
		files[f.Name] = b
	}
	return files
}

// bootstrap1 unpacks zipPath as SCF would, starts its scf_bootstrap from
// another folder with a free PORT, TENCENTCLOUD_RUNENV=SCF (as SCF does)
// and env, and dials what it serves with subprotocol (may be "").
func bootstrap1(t *testing.T, zipPath, subprotocol string, env ...string) *websocket.Conn {
	t.Helper()
	unzipAsSCF(t, zipPath)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	require.NoError(t, l.Close())
	cmd := exec.Command(filepath.Join(filepath.Dir(zipPath), "unzipped", "scf_bootstrap"))
	cmd.Dir = t.TempDir() // started from elsewhere: it finds its binary all the same
	cmd.Env = append(append(os.Environ(), "PORT="+port, "TENCENTCLOUD_RUNENV=SCF"), env...)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var opts websocket.DialOptions
	if subprotocol != "" {
		opts.Subprotocols = []string{subprotocol}
	}
	var c *websocket.Conn
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		c, _, err = websocket.Dial(ctx, "ws://127.0.0.1:"+port+"/", &opts)
		return err == nil
	}, 30*time.Second, 50*time.Millisecond, "the bootstrap started a server on $PORT")
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

// TestPackageDotIsNamedAfterItsFolder: "scfws package ." writes echo.zip,
// not a hidden "..zip".
func TestPackageDotIsNamedAfterItsFolder(t *testing.T) {
	dir, err := filepath.Abs("../../../examples/echo")
	require.NoError(t, err)
	t.Chdir(dir)
	t.Cleanup(func() { _ = os.Remove(filepath.Join(dir, "echo.zip")) })
	require.NoError(t, run(context.Background(), []string{"package", "."}, io.Discard, io.Discard))
	_, err = os.Stat(filepath.Join(dir, "echo.zip"))
	require.NoError(t, err)
}
