package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/scfws/scfws-go/internal/fakecloud"
	"github.com/scfws/scfws-go/internal/tcapi"
)

// The credentials the fake accepts unless told others: well known, so
// only on loopback.
const (
	defaultFakeID  = "AKIDscfwsfake"
	defaultFakeKey = "scfwsfakekey"
)

// fakeCloud serves a local Tencent Cloud (the SCF actions deploy uses, and
// the function URLs of what is deployed to it) until ctx ends.
func fakeCloud(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("scfws fakecloud", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen `address` of the API (loopback unless -secret-id and -secret-key are your own)")
	id := fs.String("secret-id", defaultFakeID, "the SecretId it accepts")
	key := fs.String("secret-key", defaultFakeKey, "the SecretKey it accepts")
	verbose := fs.Bool("v", false, "log every error answered, and what the instances print")
	if err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if host, _, err := net.SplitHostPort(*addr); err != nil {
		return fmt.Errorf("fakecloud: -addr %q: %w", *addr, err)
	} else if !tcapi.IsLoopback(*addr) && (*id == defaultFakeID || *key == defaultFakeKey) {
		return fmt.Errorf("fakecloud: -addr %s is reachable from other machines (%q is not loopback), and the fake "+
			"runs whatever is deployed to it: give -secret-id and -secret-key of your own (not the well-known defaults), "+
			"or listen on 127.0.0.1", *addr, host)
	}
	opts := &fakecloud.Options{Addr: *addr}
	if *verbose {
		opts.Logger, opts.Output = slog.New(slog.NewTextHandler(stderr, nil)), stderr
	}
	s, err := fakecloud.New(*id, *key, "", opts)
	if err != nil {
		return fmt.Errorf("fakecloud: %w", err)
	}
	defer s.Close()
	creds := fmt.Sprintf("TENCENTCLOUD_SECRET_ID=%s TENCENTCLOUD_SECRET_KEY=%s", *id, *key)
	fmt.Fprintf(stdout, "fake Tencent Cloud (SCF API): %[1]s\n"+
		"deploy the chat room (one instance holds 50 connections; deploy warns that without Redis more would split it):\n"+
		"  %[2]s go run ./scfws/cmd/scfws deploy -endpoint %[1]s -region ap-guangzhou ./examples/chatroom\n"+
		"or, with a redis-server on 127.0.0.1:6379 between the instances:\n"+
		"  %[2]s REDIS_URL=redis://127.0.0.1:6379/0 go run ./scfws/cmd/scfws deploy -endpoint %[1]s -region ap-guangzhou -env 'REDIS_URL=${REDIS_URL}' ./examples/chatroom\n"+
		"remove it:\n"+
		"  %[2]s go run ./scfws/cmd/scfws destroy -endpoint %[1]s -region ap-guangzhou -name chatroom\n",
		s.Endpoint(), creds)
	<-ctx.Done()
	return nil
}
