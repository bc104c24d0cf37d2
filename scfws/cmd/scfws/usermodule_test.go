package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
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

	c := bootstrap1(t, filepath.Join(dir, "app.zip"), "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte("from my module")))
	_, b, err := c.Read(ctx)
	require.NoError(t, err)
	assert.Equal(t, "from my module", string(b))
}
