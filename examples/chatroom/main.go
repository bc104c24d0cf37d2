// Command chatroom is a chat room whose three functions run unchanged in
// three places.
//
// Run locally, it is its own WebSocket server (package host), the
// production path, with the page at http://127.0.0.1:9000/:
//
//	go run ./examples/chatroom [-addr 127.0.0.1:9000]
//
// In an SCF Web function (where SCF sets TENCENTCLOUD_RUNENV=SCF) it
// listens on 0.0.0.0 and $PORT (9000 by default); on any server give -addr.
// With REDIS_URL (or REDIS_ADDR…) the store and the bus between instances
// are on Redis; else one instance keeps everything in memory.
//
// With -emulator it runs in the legacy API gateway's emulator instead, with
// the functions in-process on a memory store and the page at
// http://127.0.0.1:8080/.
//
// Started by SCF as an event function (_LAMBDA_SERVER_PORT is set), the
// same binary serves the three roles behind the legacy API gateway, with
// the connection store on Redis (REDIS_URL, or REDIS_ADDR, REDIS_PASSWORD
// and REDIS_DB; REDIS_PREFIX) and pushes to the reverse-push address in
// SCFWS_PUSH_URL (or wsBackUrl).
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tencentyun/scf-go-lib/cloudfunction"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/client"
	"github.com/scfws/scfws-go/scfws/emulator"
	"github.com/scfws/scfws-go/scfws/hub"
	"github.com/scfws/scfws-go/scfws/hub/redisstore"
)

//go:embed index.html
var indexHTML []byte

func main() {
	if os.Getenv("_LAMBDA_SERVER_PORT") != "" {
		cloud()
		return
	}
	addr := flag.String("addr", "", "listen `address` (default 127.0.0.1:9000; in a Web function 0.0.0.0:$PORT; with -emulator 127.0.0.1:8080)")
	idle := flag.Duration("idle", 10*time.Minute, "with -emulator: close clients idle this long, as the API's backend timeout does")
	verbose := flag.Bool("v", false, "log every event and push, with message data")
	asEmulator := flag.Bool("emulator", false, "run in the legacy API gateway's emulator, not as its own WebSocket server")
	flag.Parse()
	inSCF := os.Getenv("TENCENTCLOUD_RUNENV") == "SCF"
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	level := slog.LevelWarn // quiet: only what went wrong
	if *verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if !*asEmulator {
		if *addr == "" && !inSCF {
			*addr = "127.0.0.1:9000" // on your machine: reachable from it only
		}
		if err := serveHost(ctx, *addr, logger, *verbose, func(url string) {
			fmt.Printf("chat room (host): %s  (open it in two tabs)\n", url)
		}); err != nil {
			log.Fatal(err)
		}
		return
	}
	if *addr == "" {
		*addr = "127.0.0.1:8080"
	}
	srv, err := startLocal(ctx, *addr, *idle, logger, *verbose)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("chat room: http://%s/  (open it in two tabs)\nWebSocket: %s\npush URL:  %s\n", srv.Addr(), srv.URL(), srv.PushURL())
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Print(err)
	}
}

// startLocal serves the chat room and its page on the emulator, with the
// functions in-process on a memory store. The push client reads the push
// URL from each invocation's environment, as in the cloud.
func startLocal(ctx context.Context, addr string, idle time.Duration, logger *slog.Logger, verbose bool) (*emulator.Server, error) {
	push, err := scfws.NewPushClientFromEnv(nil)
	if err != nil {
		return nil, err
	}
	app := newRouter(hub.NewMemoryStore(), push, logger)
	return emulator.NewServer(ctx, scfws.Functions{Register: app, Transmission: app, Cleanup: app},
		&emulator.Options{Addr: addr, Handler: page, IdleTimeout: idle, Logger: logger, LogData: verbose})
}

// page serves the chat page at /, and the browser client it imports
// (package scfws/client) at /scfws.js.
var page = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(indexHTML)
	case "/scfws.js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = io.WriteString(w, client.Script)
	default:
		http.NotFound(w, r)
	}
})

// redisOptions reads the Redis to use from REDIS_URL (redis://[user:password@]host:port/db,
// rediss:// for TLS), else REDIS_ADDR with REDIS_PASSWORD and REDIS_DB. A
// value that does not parse stops start-up.
func redisOptions() (*redis.Options, error) {
	if u := os.Getenv("REDIS_URL"); u != "" {
		o, err := redis.ParseURL(u)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		return o, nil
	}
	addr := os.Getenv("REDIS_ADDR")
	if addr == "" {
		return nil, errNoRedis
	}
	o := &redis.Options{Addr: addr, Password: os.Getenv("REDIS_PASSWORD")}
	if v := os.Getenv("REDIS_DB"); v != "" {
		db, err := strconv.Atoi(v)
		if err != nil || db < 0 {
			return nil, fmt.Errorf("REDIS_DB %q is not a database number", v)
		}
		o.DB = db
	}
	return o, nil
}

var errNoRedis = errors.New("set REDIS_URL or REDIS_ADDR (TencentDB for Redis): SCF instances share no memory")

// cloud runs as the SCF function, with Redis and the reverse-push address.
func cloud() {
	push, err := scfws.NewPushClientFromEnv(nil) // SCFWS_PUSH_URL, read at the first push
	if err != nil {
		log.Fatal(err)
	}
	ropts, err := redisOptions()
	if err != nil {
		log.Fatal("chatroom: ", err)
	}
	store, err := redisstore.New(redis.NewClient(ropts), &redisstore.Options{Prefix: os.Getenv("REDIS_PREFIX")})
	if err != nil {
		log.Fatal(err)
	}
	cloudfunction.StartHandler(newRouter(store, push, nil))
}
