package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPackage builds a zip with the flags after the package, as the README
// writes the command.
func TestPackage(t *testing.T) {
	out := filepath.Join(t.TempDir(), "echo.zip")
	var stdout, stderr bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"package", "../../../examples/echo", "-o", out}, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), "echo.zip")

	zr, err := zip.OpenReader(out)
	require.NoError(t, err)
	defer zr.Close()
	require.Len(t, zr.File, 1)
	f := zr.File[0]
	assert.Equal(t, "main", f.Name)
	assert.Equal(t, os.FileMode(0o755), f.Mode().Perm())
	rc, err := f.Open()
	require.NoError(t, err)
	b, err := io.ReadAll(rc)
	require.NoError(t, err)
	ef, err := elf.NewFile(bytes.NewReader(b))
	require.NoError(t, err)
	assert.Equal(t, elf.EM_X86_64, ef.Machine)
	assert.Equal(t, elf.ET_EXEC, ef.Type, "statically linked (CGO_ENABLED=0)")
	assert.Nil(t, ef.Section(".interp"), "no dynamic loader")
	assert.Nil(t, ef.Section(".symtab"), "stripped (-s)")
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{nil, {"bogus"}, {"local"}, {"local", "-router", "x", "-register", "y"},
		{"local", "-router", "x", "extra"}, {"package"}, {"package", "a", "b"},
		{"package", "-name", "..", "../../../examples/echo"}, {"package", "-name", "a/b", "../../../examples/echo"}} {
		err := run(context.Background(), args, io.Discard, io.Discard)
		assert.Error(t, err, "%q", args)
	}
}

func TestParseInterspersed(t *testing.T) {
	for _, args := range [][]string{
		{"-o", "x.zip", "./app"}, {"./app", "-o", "x.zip"}, {"-o=x.zip", "./app"}, {"./app", "-o=x.zip", "--"},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		out := fs.String("o", "", "")
		require.NoError(t, parseInterspersed(fs, args), "%q", args)
		assert.Equal(t, "x.zip", *out, "%q", args)
		assert.Equal(t, []string{"./app"}, fs.Args(), "%q", args)
	}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	out := fs.String("o", "", "")
	require.NoError(t, parseInterspersed(fs, []string{"a", "--", "-o", "b"}))
	assert.Empty(t, *out)
	assert.Equal(t, []string{"a", "-o", "b"}, fs.Args(), "after --, all positional")
}

// TestPackageKeepsOutputOnFailure: a build that fails leaves an existing
// zip as it was.
func TestPackageKeepsOutputOnFailure(t *testing.T) {
	out := filepath.Join(t.TempDir(), "app.zip")
	require.NoError(t, os.WriteFile(out, []byte("previous"), 0o644))
	err := run(context.Background(), []string{"package", "-o", out, "./nonexistent"}, io.Discard, io.Discard)
	require.Error(t, err)
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, "previous", string(b))
}

// buildBin compiles the main package at dir into the test's temp dir.
func buildBin(t *testing.T, dir string) string {
	t.Helper()
	abs, err := filepath.Abs(dir)
	require.NoError(t, err)
	bin := filepath.Join(t.TempDir(), filepath.Base(abs))
	out, err := exec.Command("go", "build", "-o", bin, dir).CombinedOutput()
	require.NoError(t, err, string(out))
	return bin
}

// startLocal runs the scfws binary with local's args and returns the
// WebSocket URL it printed.
func startLocal(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(buildBin(t, "."), append([]string{"local", "-addr", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var logs bytes.Buffer
	cmd.Stderr = &logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("scfws local did not stop on interrupt")
		}
		if t.Failed() {
			t.Logf("scfws local log:\n%s", logs.String())
		}
	})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("scfws local exited: %s", logs.String())
			}
			if url, found := strings.CutPrefix(line, "WebSocket: "); found {
				return url
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("scfws local printed no URL: %s", logs.String())
		}
	}
}

func echoOnce(t *testing.T, url string, protocols []string, wantProtocol string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: protocols})
	require.NoError(t, err)
	defer c.CloseNow()
	assert.Equal(t, wantProtocol, c.Subprotocol())
	for _, msg := range []struct {
		typ  websocket.MessageType
		data string
	}{{websocket.MessageText, "hello"}, {websocket.MessageBinary, "\x00\xff"}} {
		require.NoError(t, c.Write(ctx, msg.typ, []byte(msg.data)))
		typ, got, err := c.Read(ctx)
		require.NoError(t, err)
		assert.Equal(t, msg.typ, typ)
		assert.Equal(t, msg.data, string(got))
	}
	require.NoError(t, c.Close(websocket.StatusNormalClosure, ""))
}

// TestLocalSeedBinaries runs the usage document's three functions, ported
// to Go, as separate binaries over the SCF runtime protocol.
func TestLocalSeedBinaries(t *testing.T) {
	url := startLocal(t,
		"-register", buildBin(t, "../../../examples/seed/register"),
		"-transmission", buildBin(t, "../../../examples/seed/transmission"),
		"-cleanup", buildBin(t, "../../../examples/seed/cleanup"))
	echoOnce(t, url, []string{"chat", "binary"}, "chat")
	echoOnce(t, url, nil, "")
}

// TestLocalRouterBinary runs one binary as all three functions.
func TestLocalRouterBinary(t *testing.T) {
	url := startLocal(t, "-router", buildBin(t, "../../../examples/echo"))
	echoOnce(t, url, []string{"mqtt", "echo"}, "echo")
}

func TestLocalMissingBinary(t *testing.T) {
	err := run(context.Background(), []string{"local", "-addr", "127.0.0.1:0", "-router", "/nonexistent/app"}, io.Discard, io.Discard)
	require.Error(t, err)
	assert.False(t, errors.Is(err, context.Canceled))
}

// TestLocalKilledLeavesNoFunction: scfws local killed with SIGKILL takes
// its function binaries with it (Linux: parent-death signal), and what they
// started, even in a session of its own (PID namespace).
func TestLocalKilledLeavesNoFunction(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the parent-death signal is Linux's")
	}
	marker := fmt.Sprintf("777.%d", time.Now().UnixNano()%1000000) // sleep's argument, to find it
	cmd := exec.Command(buildBin(t, "."), "local", "-addr", "127.0.0.1:0", "-router", buildBin(t, "../../../internal/scfrpc/testdata/fn"))
	cmd.Env = append(os.Environ(), "FN_SPAWN="+marker)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err, "scfws local printed nothing")
	require.Contains(t, line, "WebSocket: ")

	children := childrenOf(t, cmd.Process.Pid)
	require.NotEmpty(t, children, "the function runs")
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	assert.Eventually(t, func() bool {
		for _, pid := range children {
			if alive(pid) {
				return false
			}
		}
		return true
	}, 10*time.Second, 20*time.Millisecond, "function processes %v outlived scfws local", children)
	assert.Eventually(t, func() bool { return !running("sleep\x00" + marker) }, 10*time.Second, 20*time.Millisecond,
		"the process the function started outlived scfws local")
}

// running reports whether a process's command line (NUL-separated) is cmdline.
func running(cmdline string) bool {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.TrimRight(string(b), "\x00") == cmdline {
			return true
		}
	}
	return false
}

// childrenOf lists the processes whose parent is pid, from /proc.
func childrenOf(t *testing.T, pid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)
	var out []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if _, ppid, ok := procStat(child); ok && ppid == pid {
			out = append(out, child)
		}
	}
	return out
}

// alive reports whether pid runs (a zombie awaiting its reaper does not).
func alive(pid int) bool {
	state, _, ok := procStat(pid)
	return ok && state != "Z" && state != "X"
}

// procStat reads the state and parent of pid from /proc/pid/stat
// ("pid (comm) state ppid …").
func procStat(pid int) (state string, ppid int, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", 0, false
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 2 {
		return "", 0, false
	}
	ppid, err = strconv.Atoi(fields[1])
	return fields[0], ppid, err == nil
}

// TestNewcomerMessages: what a newcomer gets wrong first is answered with
// what to do, and help is no failure.
func TestNewcomerMessages(t *testing.T) {
	ctx := context.Background()
	err := run(ctx, []string{"local", "-addr", "127.0.0.1:0", "-router", "../../../examples/echo"}, io.Discard, io.Discard)
	require.ErrorContains(t, err, "is a folder, not a binary: build it first")
	err = run(ctx, []string{"local", "-addr", "127.0.0.1:0", "/bin/true"}, io.Discard, io.Discard)
	require.ErrorContains(t, err, "-router /bin/true")

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	err = run(ctx, []string{"local", "-addr", l.Addr().String(), "-router", "/bin/true"}, io.Discard, io.Discard)
	require.ErrorContains(t, err, "-addr 127.0.0.1:9090")

	bin := buildBin(t, ".")
	for args, want := range map[string]int{"-h": 0, "package -h": 0, "local -h": 0, "deploy -h": 0, "": 2, "bogus": 2} {
		cmd := exec.Command(bin, strings.Fields(args)...)
		_ = cmd.Run()
		assert.Equal(t, want, cmd.ProcessState.ExitCode(), "scfws %s", args)
	}
}
