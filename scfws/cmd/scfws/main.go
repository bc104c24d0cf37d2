package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp): // help asked for is no failure
	case errors.Is(err, errUsage):
		os.Exit(2) // the usage is printed
	default:
		fmt.Fprintln(os.Stderr, "scfws:", err)
		os.Exit(2)
	}
}

const usage = `usage:
  scfws deploy [-plan] [-adopt] [-name NAME] [-region REGION] [flags] PACKAGE
  scfws destroy [-name NAME] [-region REGION] [PACKAGE]
  scfws fakecloud [-addr 127.0.0.1:9500] [-secret-id ID -secret-key KEY]
  scfws package [-webfunc] [-o FILE.zip] [-name main] PACKAGE
  scfws local (-router BIN | -register BIN -transmission BIN [-cleanup BIN]) [flags]
run "scfws COMMAND -h" for the flags`

// errUsage: no command was given (the usage is printed).
var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "local":
		return local(ctx, args[1:], stdout, stderr)
	case "package":
		return pack(ctx, args[1:], stdout, stderr)
	case "deploy":
		return deployCmd(ctx, args[1:], stdout, stderr)
	case "destroy":
		return destroyCmd(ctx, args[1:], stdout, stderr)
	case "fakecloud":
		return fakeCloud(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// parseInterspersed parses flags before, between and after the positional
// arguments ("package ./app -o app.zip" as well as "package -o app.zip
// ./app"), which Go's flag package alone stops at; "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	return fs.Parse(append([]string{"--"}, positional...))
}
