package deploy

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/scfws/scfws-go/internal/tcapi"
)

// Caller makes one API call (a *tcapi.Client).
type Caller interface {
	Call(ctx context.Context, action string, req, resp any) error
}

// Deployer makes the cloud match a Config, printing each step with the
// time since it started.
type Deployer struct {
	API Caller
	Out io.Writer
	// Wait bounds each wait for a function to settle. 0: 5 minutes.
	Wait time.Duration
	// Poll is the interval between GetFunction calls while waiting. 0: 500 ms.
	Poll time.Duration
	// Adopt lets Deploy take over a WebSocket Web function of that name
	// that scfws did not deploy (its code is replaced). Default: refused.
	Adopt bool

	start time.Time // of the command: Begin, else the first call
}

// Begin starts the clock of the steps printed (Deploy and Destroy start it
// when nothing did).
func (d *Deployer) Begin() { d.start = time.Now() }

// Package is the code to deploy: the zip and the hash of what is in it.
type Package struct {
	Zip    []byte
	SHA256 string
}

// URLs are a function URL's WebSocket addresses, as the API gave them.
type URLs struct{ WSS, WS string }

const (
	urlTrigger = "scfws-url"
	qualifier  = "$DEFAULT"
	// descPrefix starts the Description of what scfws deploys, then the
	// code's hash: only letters, digits, spaces, commas and periods, as the
	// API documents for Description (models.go, CreateFunctionRequest).
	descPrefix = "deployed by scfws, code sha256 "
	// oldDescPrefix is what scfws wrote before (a ';' the API does not
	// document): still recognised as scfws's.
	oldDescPrefix = "deployed by scfws; code sha256 "
	runtime       = "Go1"
	webFunction   = "HTTP"
	webSocket     = "WS"
)

// ErrNotWebSocket: the function exists without WebSocket, which cannot be
// switched on.
var ErrNotWebSocket = errors.New("the function exists without WebSocket, which cannot be turned on later " +
	"(the API has no ProtocolType in UpdateFunctionConfiguration): deploy under another -name, " +
	"or delete that function yourself — scfws never deletes a function it did not make")

// codeOf returns the code hash in a Description scfws wrote; ours is
// false for any other.
func codeOf(desc string) (sha string, ours bool) {
	for _, p := range []string{descPrefix, oldDescPrefix} {
		if sha, ok := strings.CutPrefix(desc, p); ok {
			return sha, true
		}
	}
	return "", false
}

// redisVars are the environment variables that tell that an app has Redis
// between its instances.
var redisVars = []string{"REDIS_URL", "REDIS_ADDR"}

// Step prints a step of the command with the time since it began.
func (d *Deployer) Step(format string, args ...any) {
	fmt.Fprintf(d.Out, "[%6.1fs] %s\n", time.Since(d.start).Seconds(), fmt.Sprintf(format, args...))
}

// Deploy creates or updates the function and its URL so that they match
// cfg and pkg, changing only what differs. With plan it prints what would
// change and changes nothing.
func (d *Deployer) Deploy(ctx context.Context, cfg Config, pkg Package, plan bool) (URLs, error) {
	if d.start.IsZero() {
		d.Begin()
	}
	// the largest request deploy may send (CreateFunction; UpdateFunctionCode
	// carries the same zip with less around it), built once
	create := createRequest(cfg, pkg)
	if n := requestSize(create); n > MaxRequest {
		return URLs{}, fmt.Errorf("the zip is %d bytes: the request that sends it inline would be %d bytes, over "+
			"the %d a signed request may have (base64 adds a third): make the binary smaller", len(pkg.Zip), n, MaxRequest)
	}
	fn, err := d.get(ctx, cfg)
	if err != nil {
		return URLs{}, err
	}
	where := fmt.Sprintf("function %s (%s/%s)", cfg.Name, cfg.Region, cfg.Namespace)
	var changes []string
	var conf *updateConfiguration
	switch {
	case fn == nil:
		changes = append(changes, fmt.Sprintf("create %s: Web function with WebSocket, %s, %d MB, timeout %d s, idle %d s%s",
			where, runtime, cfg.Memory, cfg.Timeout, cfg.IdleTimeout, concurrencyText(cfg)))
	case fn.Type != webFunction || fn.ProtocolType != webSocket:
		return URLs{}, fmt.Errorf("%s: %w", where, ErrNotWebSocket)
	case !d.Adopt && !ours(fn):
		return URLs{}, fmt.Errorf("%s exists and was not deployed by scfws (its description is %q): deploying "+
			"would replace its code and configuration; give -adopt to take it over, or another -name", where, fn.Description)
	default:
		if err := failed(fn); err != nil && fn.Status != "UpdateFailed" {
			return URLs{}, fmt.Errorf("%s: %w", where, err)
		}
		if fn.Status != "Active" && fn.Status != "UpdateFailed" && !plan { // still changing: wait for it first
			if err := d.settle(ctx, cfg, fn.Status); err != nil {
				return URLs{}, err
			}
		}
		if have, _ := codeOf(fn.Description); have != pkg.SHA256 {
			changes = append(changes, fmt.Sprintf("update the code of %s (sha256 %s → %s)", where, short(have), short(pkg.SHA256)))
		}
		var what []string
		conf, what = diff(fn, cfg, pkg)
		if len(what) > 0 {
			changes = append(changes, fmt.Sprintf("update the configuration of %s: %s", where, strings.Join(what, "; ")))
		}
	}
	var url *Trigger
	if fn != nil {
		if url, err = d.urlTrigger(ctx, cfg); err != nil {
			return URLs{}, err
		}
	}
	if url == nil {
		changes = append(changes, "create the function URL (AuthType NONE, public)")
	}
	if fn != nil && fn.VpcConfig != nil && fn.VpcConfig.VpcId != "" && cfg.VPC == nil {
		d.Step("note: the function stays in VPC %s/%s: the API documents no way to take a function out of a VPC "+
			"(do it in the console), and no -vpc was given", fn.VpcConfig.VpcId, fn.VpcConfig.SubnetId)
	}
	d.warnSplit(cfg)
	if plan {
		if len(changes) == 0 {
			d.Step("plan: nothing to change")
		}
		for _, c := range changes {
			d.Step("plan: %s", c)
		}
		return URLs{}, nil
	}
	if len(changes) == 0 {
		d.Step("%s and its URL are up to date", where)
	}

	switch {
	case fn == nil:
		d.Step("CreateFunction %s", where)
		if err := d.API.Call(ctx, "CreateFunction", create, nil); err != nil {
			return URLs{}, err
		}
		if err := d.settle(ctx, cfg, "Creating"); err != nil {
			return URLs{}, err
		}
	default:
		if have, _ := codeOf(fn.Description); have != pkg.SHA256 {
			d.Step("UpdateFunctionCode %s (%d bytes)", where, len(pkg.Zip))
			if err := d.API.Call(ctx, "UpdateFunctionCode", &updateCode{FunctionName: cfg.Name, Namespace: cfg.Namespace,
				ZipFile: base64.StdEncoding.EncodeToString(pkg.Zip)}, nil); err != nil {
				return URLs{}, err
			}
			if err := d.settle(ctx, cfg, "Updating"); err != nil {
				return URLs{}, err
			}
		}
		if conf != nil {
			d.Step("UpdateFunctionConfiguration %s", where)
			if err := d.API.Call(ctx, "UpdateFunctionConfiguration", conf, nil); err != nil {
				return URLs{}, err
			}
			if err := d.settle(ctx, cfg, "Updating"); err != nil {
				return URLs{}, err
			}
		}
	}
	if url == nil {
		desc, _ := json.Marshal(URLDesc{AuthType: "NONE", NetConfig: NetConfig{EnableExtranet: true}})
		d.Step("CreateTrigger: the function URL")
		if err := d.API.Call(ctx, "CreateTrigger", &createTrigger{FunctionName: cfg.Name, Namespace: cfg.Namespace,
			TriggerName: urlTrigger, Type: "http", Qualifier: qualifier, TriggerDesc: string(desc)}, nil); err != nil {
			return URLs{}, err
		}
		if url, err = d.urlTrigger(ctx, cfg); err != nil {
			return URLs{}, err
		}
		if url == nil {
			return URLs{}, errors.New("CreateTrigger succeeded but ListTriggers shows no function URL")
		}
	}
	var desc URLDesc
	if err := json.Unmarshal([]byte(url.TriggerDesc), &desc); err != nil {
		return URLs{}, fmt.Errorf("the function URL's TriggerDesc is not JSON: %w", err)
	}
	u := URLs{WSS: desc.NetConfig.WssExtranetUrl, WS: desc.NetConfig.WsExtranetUrl}
	if u.WSS == "" && u.WS == "" {
		return URLs{}, fmt.Errorf("the function URL has no WebSocket address yet (TriggerDesc %s)", url.TriggerDesc)
	}
	d.Step("done")
	return u, nil
}

func concurrencyText(cfg Config) string {
	if cfg.Concurrency <= 1 {
		return ", one connection per instance"
	}
	return fmt.Sprintf(", %d connections per instance", cfg.Concurrency)
}

// warnSplit says, loudly, that an app without Redis splits: the platform
// starts another instance past Concurrency connections, or whenever it
// likes, and each instance then has its own connections and rooms.
func (d *Deployer) warnSplit(cfg Config) {
	for _, k := range redisVars {
		if cfg.Env[k] != "" {
			return
		}
	}
	d.Step("WARNING: no %s in the function's environment, so no Redis between instances: past %d connections "+
		"(or whenever the platform starts another instance) each instance has its own connections and rooms, "+
		"and the app splits. Give -env 'REDIS_URL=${REDIS_URL}' (and -vpc to reach TencentDB for Redis).",
		strings.Join(redisVars, " or "), cfg.Concurrency)
}

// ours reports whether scfws deployed fn.
func ours(fn *Function) bool {
	_, ok := codeOf(fn.Description)
	return ok
}

// requestSize is the size of the signed request that sends req: its JSON
// body and, at most, 4 KB of request line and headers.
func requestSize(req any) int {
	b, _ := json.Marshal(req)
	return len(b) + 4096
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	if h == "" {
		return "none"
	}
	return h
}

func createRequest(cfg Config, pkg Package) *createFunction {
	r := &createFunction{
		FunctionName: cfg.Name, Namespace: cfg.Namespace, Type: webFunction, ProtocolType: webSocket,
		ProtocolParams: &ProtocolParams{WSParams: &WSParams{IdleTimeOut: cfg.IdleTimeout}},
		Runtime:        runtime, Code: &Code{ZipFile: base64.StdEncoding.EncodeToString(pkg.Zip)},
		Description: descPrefix + pkg.SHA256, Timeout: cfg.Timeout, MemorySize: cfg.Memory,
		Environment: &Environment{Variables: cfg.variables()},
	}
	if cfg.VPC != nil {
		r.VpcConfig = &VpcConfig{VpcId: cfg.VPC.VpcID, SubnetId: cfg.VPC.SubnetID}
	}
	if cfg.Concurrency > 1 {
		r.InstanceConcurrencyConfig = &ConcurrencyConfig{DynamicEnabled: "FALSE", MaxConcurrency: cfg.Concurrency}
	}
	return r
}

// diff returns the configuration update that makes fn match cfg (nil when
// it does) and what it changes, in words. The environment is sent whole:
// an update replaces the list.
func diff(fn *Function, cfg Config, pkg Package) (*updateConfiguration, []string) {
	u := &updateConfiguration{FunctionName: cfg.Name, Namespace: cfg.Namespace}
	var what []string
	if fn.Description != descPrefix+pkg.SHA256 {
		u.Description = descPrefix + pkg.SHA256 // also rewrites the old form
	}
	if fn.Timeout != cfg.Timeout {
		u.Timeout = cfg.Timeout
		what = append(what, fmt.Sprintf("timeout %d → %d s", fn.Timeout, cfg.Timeout))
	}
	if fn.MemorySize != cfg.Memory {
		u.MemorySize = cfg.Memory
		what = append(what, fmt.Sprintf("memory %d → %d MB", fn.MemorySize, cfg.Memory))
	}
	if idle := idleOf(fn); idle != cfg.IdleTimeout {
		u.ProtocolParams = &ProtocolParams{WSParams: &WSParams{IdleTimeOut: cfg.IdleTimeout}}
		what = append(what, fmt.Sprintf("idle timeout %d → %d s", idle, cfg.IdleTimeout))
	}
	have := map[string]string{}
	if fn.Environment != nil {
		for _, v := range fn.Environment.Variables {
			have[v.Key] = v.Value
		}
	}
	want := map[string]string{}
	for _, v := range cfg.variables() {
		want[v.Key] = v.Value
	}
	if !maps.Equal(have, want) {
		u.Environment = &Environment{Variables: cfg.variables()}
		what = append(what, "environment "+envDiff(have, want))
	}
	var haveVPC, wantVPC VpcConfig
	if fn.VpcConfig != nil {
		haveVPC = *fn.VpcConfig
	}
	if cfg.VPC != nil {
		wantVPC = VpcConfig{VpcId: cfg.VPC.VpcID, SubnetId: cfg.VPC.SubnetID}
	}
	if cfg.VPC != nil && haveVPC != wantVPC { // without -vpc the VPC is left as it is (no documented removal)
		u.VpcConfig = &wantVPC
		what = append(what, fmt.Sprintf("VPC %q/%q → %q/%q", haveVPC.VpcId, haveVPC.SubnetId, wantVPC.VpcId, wantVPC.SubnetId))
	}
	var haveConc int64
	if c := fn.InstanceConcurrencyConfig; c != nil {
		haveConc = c.MaxConcurrency
	}
	if haveConc != cfg.Concurrency && !(haveConc <= 1 && cfg.Concurrency <= 1) {
		u.InstanceConcurrencyConfig = &ConcurrencyConfig{DynamicEnabled: "FALSE", MaxConcurrency: cfg.Concurrency}
		if cfg.Concurrency <= 1 {
			// "''时取消多并发配置": the documented way to cancel it
			u.InstanceConcurrencyConfig = &ConcurrencyConfig{DynamicEnabled: ""}
		}
		what = append(what, fmt.Sprintf("connections per instance %d → %d", max(haveConc, 1), max(cfg.Concurrency, 1)))
	}
	if len(what) == 0 && u.Description == "" {
		return nil, nil
	}
	return u, what
}

func idleOf(fn *Function) int64 {
	if fn.ProtocolParams == nil || fn.ProtocolParams.WSParams == nil {
		return 0
	}
	return fn.ProtocolParams.WSParams.IdleTimeOut
}

// envDiff names the variables added, removed and changed (never values:
// they may be secrets).
func envDiff(have, want map[string]string) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if v, ok := have[k]; !ok {
			out = append(out, "+"+k)
		} else if v != want[k] {
			out = append(out, "~"+k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(have)) {
		if _, ok := want[k]; !ok {
			out = append(out, "-"+k)
		}
	}
	return strings.Join(out, " ")
}

// get returns the function, nil when there is none.
func (d *Deployer) get(ctx context.Context, cfg Config) (*Function, error) {
	var fn Function
	err := d.API.Call(ctx, "GetFunction", &functionRef{FunctionName: cfg.Name, Namespace: cfg.Namespace}, &fn)
	if tcapi.IsCode(err, "ResourceNotFound") {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &fn, nil
}

// settle waits, bounded, until the function leaves the transient status
// it was put in; a Failed status is an error with its reasons.
func (d *Deployer) settle(ctx context.Context, cfg Config, transient string) error {
	return d.poll(ctx, cfg, func(fn *Function, waited time.Duration) (bool, error) {
		switch {
		case fn == nil:
			return true, fmt.Errorf("function %s disappeared while %s", cfg.Name, transient)
		case fn.Status == "Active":
			d.Step("%s: Active after %.1f s", cfg.Name, waited.Seconds())
			return true, nil
		case failed(fn) != nil:
			return true, fmt.Errorf("function %s: %w", cfg.Name, failed(fn))
		}
		return false, nil
	})
}

// poll calls GetFunction until done says so (fn is nil once the function is
// gone), at most Deployer.Wait; past it, the error says the function is
// still in its status and that nothing is left half-made.
func (d *Deployer) poll(ctx context.Context, cfg Config, done func(fn *Function, waited time.Duration) (bool, error)) error {
	wait, interval := d.Wait, d.Poll
	if wait == 0 {
		wait = 5 * time.Minute
	}
	if interval == 0 {
		interval = 500 * time.Millisecond
	}
	for start := time.Now(); ; {
		fn, err := d.get(ctx, cfg)
		if err != nil {
			return err
		}
		if ok, err := done(fn, time.Since(start)); ok {
			return err
		}
		if time.Since(start) > wait {
			return fmt.Errorf("function %s is still %s after %s: try again later (nothing is left half-made: "+
				"the function stays as the API shows it; -plan says what a deploy would still change)", cfg.Name, fn.Status, wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}

// transient reports whether a function in status is still changing.
func transient(status string) bool {
	switch status {
	case "Creating", "Updating", "Publishing", "Deleting":
		return true
	}
	return false
}

// failed is the error of a function in a Failed status, with its reasons.
func failed(fn *Function) error {
	if !strings.HasSuffix(fn.Status, "Failed") {
		return nil
	}
	var reasons []string
	for _, r := range fn.StatusReasons {
		reasons = append(reasons, r.ErrorCode+": "+r.ErrorMessage)
	}
	if len(reasons) == 0 && fn.StatusDesc != "" {
		reasons = append(reasons, fn.StatusDesc)
	}
	hint := ""
	if fn.Status == "CreateFailed" {
		hint = " (remove it with scfws destroy, then deploy again)"
	}
	return fmt.Errorf("status %s: %s%s", fn.Status, strings.Join(reasons, "; "), hint)
}

// urlTrigger returns the function's URL trigger, nil when it has none.
func (d *Deployer) urlTrigger(ctx context.Context, cfg Config) (*Trigger, error) {
	var ts triggers
	if err := d.API.Call(ctx, "ListTriggers", &listTriggers{FunctionName: cfg.Name, Namespace: cfg.Namespace, Limit: 100}, &ts); err != nil {
		return nil, err
	}
	for _, t := range ts.Triggers {
		if t.Type == "http" {
			return &t, nil
		}
	}
	return nil, nil
}

// Destroy removes what Deploy made: the function URL, then the function,
// waiting until it is gone. A function scfws did not deploy is not
// touched; one still being created or updated (an interrupted deploy) is
// waited for first, and a DeleteFunction refused while it changes is
// retried (the API's "请在函数状态正常时重试").
func (d *Deployer) Destroy(ctx context.Context, cfg Config) error {
	if d.start.IsZero() {
		d.Begin()
	}
	fn, err := d.get(ctx, cfg)
	if err != nil {
		return err
	}
	if fn == nil {
		d.Step("function %s (%s/%s): none, nothing to remove", cfg.Name, cfg.Region, cfg.Namespace)
		return nil
	}
	if !ours(fn) {
		return fmt.Errorf("function %s was not deployed by scfws (its description is %q): not removed", cfg.Name, fn.Description)
	}
	if transient(fn.Status) && fn.Status != "Deleting" { // an interrupted deploy: let it finish first
		d.Step("%s is %s: waiting for it before removing it", cfg.Name, fn.Status)
		if err := d.poll(ctx, cfg, func(now *Function, _ time.Duration) (bool, error) {
			fn = now
			return fn == nil || !transient(fn.Status) || fn.Status == "Deleting", nil
		}); err != nil {
			return err
		}
	}
	if fn != nil && fn.Status != "Deleting" {
		t, err := d.urlTrigger(ctx, cfg)
		if err != nil {
			return err
		}
		if t != nil {
			d.Step("DeleteTrigger %s", t.TriggerName)
			if err := d.API.Call(ctx, "DeleteTrigger", &deleteTrigger{FunctionName: cfg.Name, Namespace: cfg.Namespace,
				TriggerName: t.TriggerName, Type: t.Type, Qualifier: t.Qualifier}, nil); err != nil {
				return err
			}
		}
		d.Step("DeleteFunction %s", cfg.Name)
		if err := d.API.Call(ctx, "DeleteFunction", &functionRef{FunctionName: cfg.Name, Namespace: cfg.Namespace}, nil); err != nil {
			return err
		}
	}
	return d.poll(ctx, cfg, func(fn *Function, _ time.Duration) (bool, error) {
		if fn == nil {
			d.Step("function %s is gone", cfg.Name)
		}
		return fn == nil, nil
	})
}
