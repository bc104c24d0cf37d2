// Package deploy makes Tencent Cloud match an app: a Web function with
// WebSocket on, its code and configuration, and a function URL; and takes
// them down again. It calls the SCF API through internal/tcapi.
package deploy

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
)

// Config is what to deploy: flags for a first deploy, or a small JSON file
// checked into the app's repository (see [Load]). Secrets stay out of it:
// an env value "${NAME}" is read from the environment at deploy time.
type Config struct {
	// Name is the function's name (2–60 characters: letters, digits, - and
	// _, starting with a letter, not ending with - or _).
	Name string `json:"name"`
	// Region, e.g. ap-guangzhou. "": -region, TENCENTCLOUD_REGION or tccli's.
	Region string `json:"region,omitempty"`
	// Namespace. "": default.
	Namespace string `json:"namespace,omitempty"`
	// Memory in MB: 64, or 128 to 3072 in steps of 128. 0: 128.
	Memory int64 `json:"memory,omitempty"`
	// Timeout is the function's execution timeout in seconds, the longest
	// a connection lives (1–900). 0: 900.
	Timeout int64 `json:"timeout,omitempty"`
	// IdleTimeout closes a connection with no message for that many
	// seconds: 10 to 1,800 (the WebSocket page allows 10–7,200 and the
	// API model 1–1,800: only what both allow), and at most Timeout. 0: 600.
	IdleTimeout int64 `json:"idleTimeout,omitempty"`
	// Concurrency is how many connections one instance holds (1–100). 0:
	// DefaultConcurrency.
	Concurrency int64 `json:"concurrency,omitempty"`
	// Env is the function's environment. Keys: a letter, then letters,
	// digits and _ (2–64 bytes), none starting SCF_, QCLOUD_ or
	// TENCENTCLOUD_ (reserved). In a value, ${NAME} is read from this
	// process's environment; any other $ is kept as it is.
	Env map[string]string `json:"env,omitempty"`
	// VPC puts the function in a VPC (to reach TencentDB for Redis).
	VPC *VPC `json:"vpc,omitempty"`
}

// VPC is a VPC and subnet.
type VPC struct {
	VpcID    string `json:"vpcId"`
	SubnetID string `json:"subnetId"`
}

// Defaults.
const (
	defaultNamespace = "default"
	defaultMemory    = 128
	defaultTimeout   = 900
	defaultIdle      = 600
	minIdle, maxIdle = 10, 1800
	// DefaultConcurrency packs connections: 50 per 128 MB instance. An
	// idle connection costs the host 22 KB (BenchmarkIdleMemory), one that
	// has exchanged a 32 KB message with deflate 74 KB
	// (BenchmarkDeflateMemory); the most one can hold is its read buffer
	// (MaxMessageSize, 256 KB) and its send queue (MaxQueued, 1 MB). 50
	// connections all at that worst bound take 63 MB, leaving room in 128
	// MB for the process itself; 100 would not. At 128 MB this admits 50
	// times the connections of one per instance under a region's quota,
	// and bills an instance once for all of them.
	DefaultConcurrency = 50
	// MaxRequest bounds a signed API request: 10 MB (Tencent's TC3 signing,
	// 1278/46710), read as 10,000,000 bytes, the stricter. A request that
	// carries the code inline is checked against it as sent.
	MaxRequest = 10_000_000
)

// Load reads a config file; a missing file is no error when optional.
func Load(path string, optional bool) (Config, error) {
	var c Config
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && optional {
		return c, nil
	}
	if err != nil {
		return c, err
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

var namePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,58}[A-Za-z0-9]$`)

// Resolve fills defaults, expands ${NAME} in env values, and checks every
// field against what the API accepts.
func (c Config) Resolve() (Config, error) {
	if c.Namespace == "" {
		c.Namespace = defaultNamespace
	}
	if c.Memory == 0 {
		c.Memory = defaultMemory
	}
	if c.Timeout == 0 {
		c.Timeout = defaultTimeout
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = min(defaultIdle, c.Timeout)
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	var errs []error
	if !namePattern.MatchString(c.Name) {
		errs = append(errs, fmt.Errorf("name %q: 2–60 letters, digits, - and _, starting with a letter, not ending with - or _", c.Name))
	}
	if c.Memory != 64 && (c.Memory < 128 || c.Memory > 3072 || c.Memory%128 != 0) {
		errs = append(errs, fmt.Errorf("memory %d MB: 64, or 128 to 3072 in steps of 128", c.Memory))
	}
	if c.Timeout < 1 || c.Timeout > 900 {
		errs = append(errs, fmt.Errorf("timeout %d s: 1 to 900", c.Timeout))
	}
	if c.IdleTimeout < minIdle || c.IdleTimeout > maxIdle || c.IdleTimeout > c.Timeout {
		errs = append(errs, fmt.Errorf("idle timeout %d s: %d to %d, and at most the timeout (%d s)", c.IdleTimeout, minIdle, maxIdle, c.Timeout))
	}
	if c.Concurrency < 1 || c.Concurrency > 100 {
		errs = append(errs, fmt.Errorf("concurrency %d: 1 to 100", c.Concurrency))
	}
	env := make(map[string]string, len(c.Env))
	for k, v := range c.Env {
		v, missing := expand(v)
		switch {
		case !EnvKeyValid(k):
			errs = append(errs, fmt.Errorf("env %q: a name is a letter, then letters, digits and _ (2–64 bytes), "+
				"not starting SCF_, QCLOUD_ or TENCENTCLOUD_ (reserved)", k))
		case len(missing) > 0:
			errs = append(errs, fmt.Errorf("env %s: ${%s} not set in this environment", k, strings.Join(missing, "}, ${")))
		case v == "":
			errs = append(errs, fmt.Errorf("env %s: empty (the API takes no empty value)", k))
		}
		env[k] = v
	}
	c.Env = env
	if c.VPC != nil && (c.VPC.VpcID == "" || c.VPC.SubnetID == "") {
		errs = append(errs, errors.New("vpc: give both vpcId and subnetId"))
	}
	return c, errors.Join(errs...)
}

var (
	envRef   = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)
	envKey   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{1,63}$`)
	envTaken = []string{"SCF_", "QCLOUD_", "TENCENTCLOUD_"}
)

// EnvKeyValid reports whether key may name a function's environment
// variable: "key 必须以字母 [a-zA-Z] 开头，只能包含字母数字字符和下划线",
// 2–64 bytes, and none of the reserved prefixes (SCF 环境变量,
// cloud.tencent.com/document/product/583/14570).
func EnvKeyValid(key string) bool {
	if !envKey.MatchString(key) {
		return false
	}
	for _, p := range envTaken {
		if strings.HasPrefix(key, p) {
			return false
		}
	}
	return true
}

// expand replaces each ${NAME} in v with NAME's value in this process's
// environment; any other $ stays. missing names the unset (or empty)
// ones — names only, never a part of the value.
func expand(v string) (out string, missing []string) {
	out = envRef.ReplaceAllStringFunc(v, func(ref string) string {
		name := ref[2 : len(ref)-1]
		val, ok := os.LookupEnv(name)
		if !ok || val == "" {
			missing = append(missing, name)
		}
		return val
	})
	return out, missing
}

// variables returns the environment as the API's sorted list, with the
// function timeout the host reads (SCFWS_FUNCTION_TIMEOUT).
func (c Config) variables() []Variable {
	vars := []Variable{{Key: "SCFWS_FUNCTION_TIMEOUT", Value: fmt.Sprint(c.Timeout)}}
	for k, v := range c.Env {
		vars = append(vars, Variable{Key: k, Value: v})
	}
	slices.SortFunc(vars, func(a, b Variable) int { return strings.Compare(a.Key, b.Key) })
	return vars
}
