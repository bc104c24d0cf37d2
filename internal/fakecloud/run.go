package fakecloud

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/scfws/scfws-go/internal/scfrpc"
)

// maxInstances bounds the instances of one function here.
const maxInstances = 16

// instance is one running scf_bootstrap, serving on its PORT.
type instance struct {
	cmd    *exec.Cmd
	proxy  *httputil.ReverseProxy
	active int
	exited chan struct{}
}

// serveURL serves a function URL: a connection (or request) goes to an
// instance with room for it — MaxConcurrency connections each, one without
// multi-concurrency — else to a new one.
func (s *Server) serveURL(w http.ResponseWriter, r *http.Request, id, path string) {
	s.mu.Lock()
	f := s.urls[id]
	var code []byte
	var env []string
	perInstance := 1
	if f != nil {
		code = f.zip
		if f.cfg.Environment != nil {
			for _, v := range f.cfg.Environment.Variables {
				env = append(env, v.Key+"="+v.Value)
			}
		}
		if c := f.cfg.InstanceConcurrencyConfig; c != nil && c.MaxConcurrency != nil && *c.MaxConcurrency > 1 {
			perInstance = int(*c.MaxConcurrency)
		}
	}
	s.mu.Unlock()
	switch {
	case f == nil:
		http.Error(w, "no such function URL", http.StatusNotFound)
		return
	case code == nil:
		http.Error(w, "the function is not active", http.StatusServiceUnavailable)
		return
	}
	inst, err := f.acquire(code, env, perInstance)
	if err != nil {
		s.log.Warn("fakecloud: instance failed", "function", f.name, "err", err)
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer f.release(inst)
	r.URL.Path = path
	inst.proxy.ServeHTTP(w, r)
}

// acquire returns an instance with room for one more connection, starting
// one when none has.
func (f *function) acquire(code []byte, env []string, perInstance int) (*instance, error) {
	f.rmu.Lock()
	defer f.rmu.Unlock()
	if f.dir == "" {
		dir, err := unpack(code)
		if err != nil {
			return nil, err
		}
		f.dir = dir
	}
	live := f.instances[:0]
	for _, in := range f.instances {
		select {
		case <-in.exited:
		default:
			live = append(live, in)
		}
	}
	f.instances = live
	for _, in := range f.instances {
		if in.active < perInstance {
			in.active++
			return in, nil
		}
	}
	if len(f.instances) >= maxInstances {
		return nil, fmt.Errorf("%d instances are busy", maxInstances)
	}
	in, err := start(f.dir, env, f.s.output)
	if err != nil {
		return nil, err
	}
	in.active = 1
	f.instances = append(f.instances, in)
	return in, nil
}

func (f *function) release(in *instance) {
	f.rmu.Lock()
	in.active--
	f.rmu.Unlock()
}

// stopInstances stops every instance (SIGTERM, then SIGKILL after 5 s) and
// forgets the unpacked code, so that the next connection runs the current.
func (f *function) stopInstances() {
	f.rmu.Lock()
	ins, dir := f.instances, f.dir
	f.instances, f.dir = nil, ""
	f.rmu.Unlock()
	for _, in := range ins {
		_ = in.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-in.exited:
		case <-time.After(5 * time.Second):
			scfrpc.KillGroup(in.cmd)
			<-in.exited
		}
	}
	if dir != "" {
		_ = os.RemoveAll(dir)
	}
}

// unpack writes the zip to a new folder, with the modes it records.
func unpack(code []byte) (string, error) {
	zr, err := zip.NewReader(bytes.NewReader(code), int64(len(code)))
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "fakecloud-code-")
	if err != nil {
		return "", err
	}
	for _, zf := range zr.File {
		path := filepath.Join(dir, filepath.Clean("/"+zf.Name))
		if zf.FileInfo().IsDir() {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return "", err
		}
		rc, err := zf.Open()
		if err != nil {
			return "", err
		}
		out, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, zf.Mode().Perm())
		if err == nil {
			_, err = io.Copy(out, rc)
			err = errors.Join(err, out.Close())
		}
		_ = rc.Close()
		if err != nil {
			return "", err
		}
	}
	return dir, nil
}

// start runs scf_bootstrap in dir with the function's environment and a
// free PORT, and waits until it listens there (the platform's start-up
// limit is about a minute; here 30 s).
func start(dir string, env []string, output io.Writer) (*instance, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	cmd := exec.Command(filepath.Join(dir, "scf_bootstrap"))
	cmd.Dir = dir
	// as SCF's built-in environment (583/14570): TENCENTCLOUD_RUNENV=SCF,
	// USER_CODE_ROOT the code's folder
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "PORT=" + strconv.Itoa(port),
		"TENCENTCLOUD_RUNENV=SCF", "USER_CODE_ROOT=" + dir + "/"}, env...)
	cmd.Stdout, cmd.Stderr = output, output
	cmd.SysProcAttr = scfrpc.SysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("scf_bootstrap did not start: %w", err)
	}
	in := &instance{cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(in.exited) }()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		select {
		case <-in.exited:
			return nil, fmt.Errorf("scf_bootstrap exited before listening on PORT %d (%v)", port, cmd.ProcessState)
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			_ = c.Close()
			break
		}
		if time.Now().After(deadline) {
			scfrpc.KillGroup(cmd)
			return nil, fmt.Errorf("scf_bootstrap did not listen on PORT %d within 30 s", port)
		}
	}
	target := &url.URL{Scheme: "http", Host: addr}
	in.proxy = httputil.NewSingleHostReverseProxy(target)
	return in, nil
}
