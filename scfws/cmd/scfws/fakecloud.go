package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/scfws/scfws-go/internal/fakecloud"
)

// fakeCloud serves a local Tencent Cloud (the SCF actions deploy uses, and
// the function URLs of what is deployed to it) until ctx ends.
func fakeCloud(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("scfws fakecloud", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen `address` of the API")
	id := fs.String("secret-id", "AKIDscfwsfake", "the SecretId it accepts")
	key := fs.String("secret-key", "scfwsfakekey", "the SecretKey it accepts")
	verbose := fs.Bool("v", false, "log every error answered, and what the instances print")
	if err := parseInterspersed(fs, args); err != nil {
		return err
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
	fmt.Fprintf(stdout, "fake Tencent Cloud (SCF API): %s\n"+
		"  TENCENTCLOUD_SECRET_ID=%s TENCENTCLOUD_SECRET_KEY=%s scfws deploy -endpoint %s -region ap-guangzhou ./examples/chatroom\n",
		s.Endpoint(), *id, *key, s.Endpoint())
	<-ctx.Done()
	return nil
}
