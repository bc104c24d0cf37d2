package main

import (
	"archive/zip"
	"context"
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

// userApp is an app in a module of its own: the README's echo on a host.
const userApp = `package main

import (
	"context"
	"log"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/host"
)

func main() {
	srv, err := host.New(nil)
	if err != nil {
		log.Fatal(err)
	}
	push, err := scfws.NewPushClient(srv.PushURL(), &scfws.PushOptions{HTTPClient: srv.Client()})
	if err != nil {
		log.Fatal(err)
	}
	app := &scfws.Router{Transmission: func(ctx context.Context, ev *scfws.TransmissionEvent) error {
		return push.Send(ctx, ev.ConnectionID(), ev.Message())
	}}
	log.Fatal(srv.Serve(context.Background(), scfws.Functions{Register: app, Transmission: app, Cleanup: app}))
}
`

// TestFromUserModule: the scfws command used as the README says, from a
// module outside this repository (this checkout stands in for the
// published module through a replace): "go get -tool" adds it, "go tool
// scfws package -webfunc ." zips the app, and the zip's scf_bootstrap
// serves it.
func TestFromUserModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module of its own")
	}
	repo, err := filepath.Abs("../../..")
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(userApp), 0o644))
	goCmd := func(args ...string) {
		t.Helper()
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		// GOPROXY=off: the module is not published; everything else it
		// needs is in the module cache already (this repository's tests run)
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "GOPROXY=off")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "go %v:\n%s", args, out)
	}
	goCmd("mod", "init", "example.com/myapp")
	// the checksums this repository's modules have (the checksum database
	// is out of reach here; a user's go get fetches them)
	sums, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.sum"), sums, 0o644))
	goCmd("mod", "edit", "-require=github.com/scfws/scfws-go@v0.0.0", "-replace=github.com/scfws/scfws-go="+repo)
	goCmd("get", "-tool", "github.com/scfws/scfws-go/scfws/cmd/scfws")
	goCmd("mod", "tidy")
	goCmd("tool", "scfws", "package", "-webfunc", "-o", "app.zip", ".")

	zr, err := zip.OpenReader(filepath.Join(dir, "app.zip"))
	require.NoError(t, err)
	defer zr.Close()
	run := t.TempDir()
	for _, f := range zr.File {
		rc, err := f.Open()
		require.NoError(t, err)
		b, err := io.ReadAll(rc)
		rc.Close()
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(run, f.Name), b, f.Mode().Perm()))
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	require.NoError(t, l.Close())
	cmd := exec.Command(filepath.Join(run, "scf_bootstrap"))
	cmd.Env = append(os.Environ(), "PORT="+port, "TENCENTCLOUD_RUNENV=SCF")
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	var c *websocket.Conn
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		c, _, err = websocket.Dial(ctx, "ws://127.0.0.1:"+port+"/", nil)
		return err == nil
	}, 30*time.Second, 50*time.Millisecond, "scf_bootstrap serves the app on $PORT")
	defer c.CloseNow()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte("from my module")))
	_, b, err := c.Read(ctx)
	require.NoError(t, err)
	assert.Equal(t, "from my module", string(b))
}
