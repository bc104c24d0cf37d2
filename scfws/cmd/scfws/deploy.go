package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/scfws/scfws-go/internal/deploy"
	"github.com/scfws/scfws-go/internal/tcapi"
)

// configFile is the deploy configuration read when present.
const configFile = "scfws.json"

// deployFlags are the flags deploy and destroy share; each overrides the
// configuration file's value when given.
type deployFlags struct {
	fs                                 *flag.FlagSet
	config, name, region, namespace    string
	endpoint, vpc                      string
	memory, timeout, idle, concurrency int64
	env                                envFlag
	wait                               time.Duration
	retries                            int
}

type envFlag map[string]string

func (e envFlag) String() string { return "" }
func (e envFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("want KEY=VALUE, got %q", v)
	}
	e[k] = val
	return nil
}

func newDeployFlags(name string, stderr io.Writer, full bool) *deployFlags {
	f := &deployFlags{fs: flag.NewFlagSet(name, flag.ContinueOnError), env: envFlag{}}
	fs := f.fs
	fs.SetOutput(stderr)
	fs.StringVar(&f.config, "config", "", "configuration `file` (default "+configFile+" when present)")
	fs.StringVar(&f.name, "name", "", "function `name` (default: the package's folder name)")
	fs.StringVar(&f.region, "region", "", "`region`, e.g. ap-guangzhou (default: TENCENTCLOUD_REGION, else tccli's)")
	fs.StringVar(&f.namespace, "namespace", "", "`namespace` (default: default)")
	fs.StringVar(&f.endpoint, "endpoint", "", "the SCF API's `address` (default: scf.tencentcloudapi.com; http://127.0.0.1:… for a local one)")
	fs.DurationVar(&f.wait, "wait", 5*time.Minute, "how long to wait for the function to settle, each time")
	fs.IntVar(&f.retries, "retries", 5, "how many more times to make a call the API refused as retryable "+
		"(RequestLimitExceeded, a function still changing), waiting 1 s, 2 s, 4 s…")
	if full {
		fs.Int64Var(&f.memory, "memory", 0, "memory in `MB` (default 128)")
		fs.Int64Var(&f.timeout, "timeout", 0, "execution timeout in `seconds`, the longest a connection lives (default 900)")
		fs.Int64Var(&f.idle, "idle", 0, "WebSocket idle timeout in `seconds`, 10-1800 (default 600)")
		fs.Int64Var(&f.concurrency, "concurrency", 0, fmt.Sprintf("connections per instance, 1-100 (default %d)", deploy.DefaultConcurrency))
		fs.Var(f.env, "env", "an environment variable `KEY=VALUE` (repeat; VALUE may be ${NAME} of this environment)")
		fs.StringVar(&f.vpc, "vpc", "", "`vpc-id/subnet-id` to run in (to reach TencentDB for Redis)")
	}
	return f
}

// resolve merges the configuration file and the flags given.
func (f *deployFlags) resolve(pkg string) (deploy.Config, error) {
	path, optional := f.config, false
	if path == "" {
		path, optional = configFile, true
	}
	cfg, err := deploy.Load(path, optional)
	if err != nil {
		return cfg, err
	}
	set := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	str := func(name string, dst *string, v string) {
		if set[name] {
			*dst = v
		}
	}
	num := func(name string, dst *int64, v int64) {
		if set[name] {
			*dst = v
		}
	}
	str("name", &cfg.Name, f.name)
	str("region", &cfg.Region, f.region)
	str("namespace", &cfg.Namespace, f.namespace)
	num("memory", &cfg.Memory, f.memory)
	num("timeout", &cfg.Timeout, f.timeout)
	num("idle", &cfg.IdleTimeout, f.idle)
	num("concurrency", &cfg.Concurrency, f.concurrency)
	if len(f.env) > 0 && cfg.Env == nil {
		cfg.Env = map[string]string{}
	}
	for k, v := range f.env {
		cfg.Env[k] = v
	}
	if set["vpc"] {
		vpc, subnet, ok := strings.Cut(f.vpc, "/")
		if !ok {
			return cfg, fmt.Errorf("-vpc %q: want vpc-id/subnet-id", f.vpc)
		}
		cfg.VPC = &deploy.VPC{VpcID: vpc, SubnetID: subnet}
	}
	if cfg.Name == "" && pkg != "" {
		abs, err := filepath.Abs(pkg)
		if err != nil {
			return cfg, err
		}
		cfg.Name = filepath.Base(abs)
	}
	if cfg.Region, err = tcapi.Region(cfg.Region); err != nil {
		return cfg, err
	}
	return cfg.Resolve()
}

// deployer returns a Deployer on the SCF API with the credentials found.
func (f *deployFlags) deployer(cfg deploy.Config, stdout io.Writer) (*deploy.Deployer, error) {
	cred, _, err := tcapi.Credential()
	if err != nil {
		return nil, err
	}
	api, err := tcapi.New(cred, cfg.Region, "scf", "2018-04-16", &tcapi.Options{Endpoint: f.endpoint, Retries: retriesOption(f.retries)})
	if err != nil {
		return nil, err
	}
	return &deploy.Deployer{API: api, Out: stdout, Wait: f.wait}, nil
}

func deployCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newDeployFlags("scfws deploy", stderr, true)
	plan := f.fs.Bool("plan", false, "print what would change, change nothing")
	adopt := f.fs.Bool("adopt", false, "take over a WebSocket Web function of that name that scfws did not deploy")
	if err := parseInterspersed(f.fs, args); err != nil {
		return err
	}
	if f.fs.NArg() != 1 {
		f.fs.Usage()
		return errors.New("deploy: give one main package, e.g. ./examples/chatroom")
	}
	pkg := f.fs.Arg(0)
	cfg, err := f.resolve(pkg)
	if err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	d, err := f.deployer(cfg, stdout)
	if err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	d.Adopt = *adopt
	d.Begin()
	code, err := packageCode(ctx, pkg, stderr)
	if err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	d.Step("built %s: main and scf_bootstrap, %d bytes zipped, code sha256 %s", pkg, len(code.Zip), code.SHA256[:12])
	urls, err := d.Deploy(ctx, cfg, code, *plan)
	if err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	if !*plan {
		fmt.Fprintf(stdout, "client URL: %s\n            %s\n", urls.WSS, urls.WS)
	}
	return nil
}

func destroyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newDeployFlags("scfws destroy", stderr, false)
	if err := parseInterspersed(f.fs, args); err != nil {
		return err
	}
	if f.fs.NArg() > 1 {
		return errors.New("destroy: give at most one package (its folder names the function)")
	}
	cfg, err := f.resolve(f.fs.Arg(0))
	if err != nil {
		return fmt.Errorf("destroy: %w", err)
	}
	d, err := f.deployer(cfg, stdout)
	if err != nil {
		return fmt.Errorf("destroy: %w", err)
	}
	if err := d.Destroy(ctx, cfg); err != nil {
		return fmt.Errorf("destroy: %w", err)
	}
	return nil
}

// packageCode builds pkg for a Web function into a zip in memory; its hash
// is of the files' names and contents (a zip's dates would change it).
func packageCode(ctx context.Context, pkg string, stderr io.Writer) (deploy.Package, error) {
	files, cleanup, err := build(ctx, pkg, "main", true, stderr)
	if err != nil {
		return deploy.Package{}, err
	}
	defer cleanup()
	var zipped bytes.Buffer
	if err := zipTo(&zipped, files, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		return deploy.Package{}, err
	}
	h := sha256.New()
	for _, zf := range files {
		var content bytes.Buffer
		if err := zf.copyTo(&content); err != nil {
			return deploy.Package{}, err
		}
		for _, part := range [][]byte{[]byte(zf.name), content.Bytes()} {
			_ = binary.Write(h, binary.BigEndian, uint64(len(part)))
			h.Write(part)
		}
	}
	return deploy.Package{Zip: zipped.Bytes(), SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// retriesOption turns the -retries flag (0: none) into tcapi's option
// (0: the default, negative: none).
func retriesOption(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}
