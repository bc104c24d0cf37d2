package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"

	"github.com/redis/go-redis/v9"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/host"
	"github.com/scfws/scfws-go/scfws/hub"
	"github.com/scfws/scfws-go/scfws/hub/redisstore"
)

// serveHost serves the chat room as its own WebSocket server until ctx
// ends: on Redis when it is configured (the store, and the bus between
// instances), else in memory as one instance. ready gets a URL of the page.
func serveHost(ctx context.Context, addr string, logger *slog.Logger, verbose bool, ready func(url string)) error {
	var store hub.Store = hub.NewMemoryStore()
	var rdb redis.UniversalClient
	ropts, err := redisOptions()
	switch {
	case err == nil:
		rdb = redis.NewClient(ropts)
		defer rdb.Close()
		if store, err = redisstore.New(rdb, &redisstore.Options{Prefix: os.Getenv("REDIS_PREFIX")}); err != nil {
			return err
		}
	case !errors.Is(err, errNoRedis):
		return err
	}
	srv, err := host.New(&host.Options{Addr: addr, Redis: rdb, Handler: page, Logger: logger, LogData: verbose})
	if err != nil {
		return err
	}
	push, err := scfws.NewPushClient(srv.PushURL(), &scfws.PushOptions{HTTPClient: srv.Client()})
	if err != nil {
		return err
	}
	app := newRouter(store, push, logger)
	ready(clickableURL(srv.Addr()))
	return srv.Serve(ctx, scfws.Functions{Register: app, Transmission: app, Cleanup: app})
}

// clickableURL is a URL of the page that a browser on this machine can open:
// an unspecified listening address (0.0.0.0, ::) is reached on loopback.
func clickableURL(addr string) string {
	h, port, err := net.SplitHostPort(addr)
	if err == nil {
		if ip := net.ParseIP(h); ip != nil && ip.IsUnspecified() {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
	}
	return "http://" + addr + "/"
}
