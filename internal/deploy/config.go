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
	// seconds (at most Timeout). 0: 600.
	IdleTimeout int64 `json:"idleTimeout,omitempty"`
	// Concurrency is how many connections one instance holds (1–100). 0:
	// one per instance (the platform's default).
	Concurrency int64 `json:"concurrency,omitempty"`
	// Env is the function's environment; "${NAME}" values are read from
	// this process's environment.
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
	// MaxZip bounds the code sent inline: the whole signed request must stay
	// within 10 MB, and base64 makes the zip a third larger.
	MaxZip = 7_500_000
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
	if c.IdleTimeout < 1 || c.IdleTimeout > c.Timeout {
		errs = append(errs, fmt.Errorf("idle timeout %d s: 1 to the timeout (%d s)", c.IdleTimeout, c.Timeout))
	}
	if c.Concurrency < 0 || c.Concurrency > 100 {
		errs = append(errs, fmt.Errorf("concurrency %d: 1 to 100", c.Concurrency))
	}
	env := make(map[string]string, len(c.Env))
	for k, v := range c.Env {
		var missing []string
		v = os.Expand(v, func(name string) string {
			val, ok := os.LookupEnv(name)
			if !ok || val == "" {
				missing = append(missing, name)
			}
			return val
		})
		switch {
		case k == "":
			errs = append(errs, errors.New("env: an empty name"))
		case len(missing) > 0:
			errs = append(errs, fmt.Errorf("env %s: %s not set in this environment", k, strings.Join(missing, ", ")))
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
