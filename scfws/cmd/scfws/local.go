package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"syscall"
	"time"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/emulator"
)

func local(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("scfws local", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		register     = fs.String("register", "", "register function `binary`")
		transmission = fs.String("transmission", "", "transmission function `binary`")
		cleanup      = fs.String("cleanup", "", "cleanup function `binary` (optional)")
		router       = fs.String("router", "", "one `binary` serving all three functions")
		addr         = fs.String("addr", "127.0.0.1:8080", "listen `address` (port 0 picks a free one)")
		path         = fs.String("path", "/release/websocket", "WebSocket `path`, stage first")
		idle         = fs.Duration("idle", 0, "close clients idle this long, like the API's backend timeout (0: never)")
		timeout      = fs.Duration("timeout", 3*time.Second, "each invocation's deadline")
		maxConns     = fs.Int("max-conns", 10000, "maximum open connections")
		verbose      = fs.Bool("v", false, "log message data too")
		// the emulator's strict readings, each relaxed by a flag
		cleanupAll = fs.Bool("cleanup-on-server-close", false, "also run cleanup for closes the gateway side starts (closing push, idle timeout, failures, shutdown)")
		envAtStart = fs.Bool("env-at-start", false, "also give binaries SCFWS_PUSH_URL and wsBackUrl in their process environment at start")
		keepClient = fs.Bool("keep-on-failed-push", false, "keep a client connected after a push to it failed")
		applyExt   = fs.Bool("apply-extensions", false, "really apply a permessage-deflate the register function accepts")
	)
	if err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("local: unexpected argument %q: give a function binary with -router %s "+
			"(one binary serving all three functions), or -register and -transmission", fs.Arg(0), fs.Arg(0))
	}
	for _, bin := range []string{*router, *register, *transmission, *cleanup} {
		if err := checkBinary(bin); err != nil {
			return fmt.Errorf("local: %w", err)
		}
	}
	var fns scfws.Functions
	switch {
	case *router != "" && (*register != "" || *transmission != "" || *cleanup != ""):
		return errors.New("local: -router replaces -register, -transmission and -cleanup")
	case *router != "":
		app := emulator.Binary(*router, stderr)
		fns = scfws.Functions{Register: app, Transmission: app, Cleanup: app}
	case *register != "" && *transmission != "":
		fns.Register = emulator.Binary(*register, stderr)
		fns.Transmission = emulator.Binary(*transmission, stderr)
		if *cleanup != "" {
			fns.Cleanup = emulator.Binary(*cleanup, stderr)
		}
	default:
		fs.Usage()
		return errors.New("local: give -router, or -register and -transmission")
	}

	s, err := emulator.NewServer(ctx, fns, &emulator.Options{
		Addr: *addr, Path: *path, IdleTimeout: *idle, InvokeTimeout: *timeout, MaxConnections: *maxConns,
		CleanupOnServerClose: *cleanupAll, EnvAtStart: *envAtStart, KeepClientOnFailedPush: *keepClient,
		ApplyExtensions: *applyExt,
		Logger:          slog.New(slog.NewTextHandler(stderr, nil)), LogData: *verbose,
	})
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("%w: another program (another scfws local?) listens there: choose another address, e.g. -addr 127.0.0.1:9090", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "WebSocket: %s\npush URL:  %s\n", s.URL(), s.PushURL())
	fmt.Fprintln(stderr, "note: SCF Go binaries (scf-go-lib) listen on all interfaces; "+
		"whoever reaches this machine can invoke them: use scfws local on a trusted network only")
	fmt.Fprintln(stderr, "note: strict as the gateway's documents: cleanup only for closes the client starts, "+
		"the push URL only in each invocation's environment, a client dropped after a failed push, "+
		"accepted extensions not applied (-cleanup-on-server-close, -env-at-start, -keep-on-failed-push, -apply-extensions relax them)")
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.Shutdown(sctx)
}

// checkBinary says what is wrong with a function binary given ("" is none):
// missing, or a folder — a Go package to build first.
func checkBinary(path string) error {
	if path == "" {
		return nil
	}
	st, err := os.Stat(path)
	switch {
	case err != nil:
		return fmt.Errorf("function binary %s: %w", path, err)
	case st.IsDir():
		return fmt.Errorf("%s is a folder, not a binary: build it first (go build -o /tmp/app %s) and give the binary (-router /tmp/app)", path, path)
	case st.Mode().Perm()&0o111 == 0:
		return fmt.Errorf("%s is not executable (chmod +x %s)", path, path)
	}
	return nil
}
