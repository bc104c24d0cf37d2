package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scfws/scfws-go/internal/fakecloud"
	"github.com/scfws/scfws-go/internal/tcapi"
)

// What Tencent's documents require of a deploy, each against the fake
// cloud made as strict as they are.

// function reads a function as the API shows it.
func function(t *testing.T, c *fakecloud.Server, name string) map[string]any {
	t.Helper()
	var fn map[string]any
	require.NoError(t, api(t, c).Call(context.Background(), "GetFunction", map[string]string{"FunctionName": name}, &fn))
	return fn
}

func envOf(fn map[string]any) map[string]string {
	out := map[string]string{}
	env, _ := fn["Environment"].(map[string]any)
	vars, _ := env["Variables"].([]any)
	for _, v := range vars {
		kv := v.(map[string]any)
		out[kv["Key"].(string)] = kv["Value"].(string)
	}
	return out
}

func deployEcho(t *testing.T, c *fakecloud.Server, name string, extra ...string) (string, error) {
	args := append([]string{"deploy", "-endpoint", c.Endpoint(), "-region", region, "-name", name, "-retries", "2", "-wait", "20s"}, extra...)
	return cli(t, append(args, "../../../examples/webecho")...)
}

// TestDeployDescription: the fake refuses a Description outside the
// documented set ("英文字母、数字、空格、逗号、换行符和英文句号，支持中文", ≤ 1000),
// and what deploy sends passes it.
func TestDeployDescription(t *testing.T) {
	c := cloud(t)
	ctx := context.Background()
	i := 0
	for desc, ok := range map[string]bool{
		"deployed by scfws; code sha256 ab": false, // what deploy sent before
		"deployed by scfws, code sha256 ab": true,
		"中文描述, 可以.":                         true,
		"tab\there":                         false,
		strings.Repeat("a", 1001):           false,
	} {
		i++
		err := api(t, c).Call(ctx, "CreateFunction", map[string]any{"FunctionName": "desc" + strings.Repeat("x", i),
			"Type": "HTTP", "ProtocolType": "WS", "Timeout": 900, "Description": desc,
			"Code": map[string]string{"ZipFile": zipOf(t, 0o755, map[string]string{"scf_bootstrap": "#!/bin/bash\nsleep 1000\n"})}}, nil)
		if ok {
			assert.NoError(t, err, "%q", desc)
		} else {
			assert.True(t, tcapi.IsCode(err, "InvalidParameterValue.Description"), "%q: %v", desc, err)
		}
	}
	_, err := deployEcho(t, c, "described")
	require.NoError(t, err)
	assert.Regexp(t, `^deployed by scfws, code sha256 [0-9a-f]{64}$`, function(t, c, "described")["Description"])
}

// TestDeployEnvDollars: only ${NAME} is read from the environment; a lone
// $ is kept; an error names the variable, never a part of a value; keys
// outside the documented set are refused before any call.
func TestDeployEnvDollars(t *testing.T) {
	c := cloud(t)
	t.Setenv("HOME_DIR_LIKE", "/home/x")
	_, err := deployEcho(t, c, "dollars", "-env", "DB_PASSWORD=hunter$s3cretTail", "-env", "AA=a$HOME", "-env", "BB=${HOME_DIR_LIKE}/b")
	require.NoError(t, err)
	env := envOf(function(t, c, "dollars"))
	assert.Equal(t, "hunter$s3cretTail", env["DB_PASSWORD"])
	assert.Equal(t, "a$HOME", env["AA"])
	assert.Equal(t, "/home/x/b", env["BB"])

	calls := len(c.Calls())
	_, err = deployEcho(t, c, "dollars", "-env", "DB_PASSWORD=hunter${S3CRET_NOT_SET}Tail")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "${S3CRET_NOT_SET} not set")
	assert.NotContains(t, err.Error(), "hunter")
	assert.NotContains(t, err.Error(), "Tail")
	for _, key := range []string{"SCF_RUNTIME", "TENCENTCLOUD_X", "1ABC", "A-B", "B"} {
		_, err = deployEcho(t, c, "dollars", "-env", key+"=v")
		require.Error(t, err, key)
		assert.Contains(t, err.Error(), "reserved")
	}
	assert.Len(t, c.Calls(), calls, "nothing called")
}

// TestDeployAdopt: a WebSocket Web function scfws did not deploy is not
// taken over unless asked.
func TestDeployAdopt(t *testing.T) {
	c := cloud(t)
	require.NoError(t, api(t, c).Call(context.Background(), "CreateFunction", map[string]any{"FunctionName": "theirs",
		"Type": "HTTP", "ProtocolType": "WS", "Timeout": 900, "Description": "a colleagues function",
		"Code": map[string]string{"ZipFile": zipOf(t, 0o755, map[string]string{"scf_bootstrap": "#!/bin/bash\nsleep 1000\n"})}}, nil))
	time.Sleep(100 * time.Millisecond)
	_, err := deployEcho(t, c, "theirs")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "was not deployed by scfws")
	assert.Contains(t, err.Error(), "-adopt")
	assert.NotContains(t, c.Calls(), "UpdateFunctionCode")
	_, err = deployEcho(t, c, "theirs", "-adopt")
	require.NoError(t, err)
	assert.Contains(t, function(t, c, "theirs")["Description"], "deployed by scfws")
}

// TestDestroyWhileChanging: destroy after an interrupted deploy waits for
// the function to settle, then removes it (the API refuses DeleteFunction
// while it changes).
func TestDestroyWhileChanging(t *testing.T) {
	c := cloud(t)
	_, err := deployEcho(t, c, "changing")
	require.NoError(t, err)
	c.SetSettle(6) // six polls to settle
	require.NoError(t, api(t, c).Call(context.Background(), "UpdateFunctionConfiguration",
		map[string]any{"FunctionName": "changing", "MemorySize": 256}, nil))
	out, err := cli(t, "destroy", "-endpoint", c.Endpoint(), "-region", region, "-name", "changing")
	require.NoError(t, err)
	assert.Contains(t, out, "is Updating: waiting")
	assert.Contains(t, out, "is gone")
}

// TestDeployLimits: -idle as both documents allow (10–1,800 s), the
// concurrency cancelled in the documented form, a VPC never removed by an
// undocumented one, and the default that packs connections.
func TestDeployLimits(t *testing.T) {
	c := cloud(t)
	for _, idle := range []string{"5", "1801"} {
		_, err := deployEcho(t, c, "limits", "-idle", idle)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "10 to 1800")
	}
	out, err := deployEcho(t, c, "limits", "-vpc", "vpc-1/subnet-1")
	require.NoError(t, err)
	fn := function(t, c, "limits")
	assert.EqualValues(t, 50, fn["InstanceConcurrencyConfig"].(map[string]any)["MaxConcurrency"], "50 per instance by default")
	assert.Contains(t, out, "WARNING: no REDIS_URL", "said loudly: no Redis")

	_, err = deployEcho(t, c, "limits", "-concurrency", "1")
	require.NoError(t, err, "cancelled with DynamicEnabled '' and no MaxConcurrency")
	assert.Nil(t, function(t, c, "limits")["InstanceConcurrencyConfig"])
	out, err = deployEcho(t, c, "limits", "-concurrency", "1", "-plan")
	require.NoError(t, err)
	assert.Contains(t, out, "stays in VPC vpc-1/subnet-1")
	assert.Contains(t, out, "WARNING: no REDIS_URL", "in -plan too")
	t.Setenv("REDIS_URL", "redis://x")
	out, err = deployEcho(t, c, "limits", "-concurrency", "1", "-plan", "-vpc", "vpc-1/subnet-1", "-env", "REDIS_URL=${REDIS_URL}")
	require.NoError(t, err)
	assert.NotContains(t, out, "WARNING")
}

// TestCredentials: TENCENTCLOUD_SECURITY_TOKEN is read beside
// TENCENTCLOUD_SESSION_TOKEN; plain http goes to loopback only.
func TestCredentials(t *testing.T) {
	c, err := fakecloud.New(fakeID, fakeKey, "the-token", nil)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	t.Setenv("TENCENTCLOUD_SECRET_ID", fakeID)
	t.Setenv("TENCENTCLOUD_SECRET_KEY", fakeKey)
	t.Setenv("TENCENTCLOUD_SESSION_TOKEN", "")
	t.Setenv("TENCENTCLOUD_SECURITY_TOKEN", "the-token")
	out, err := cli(t, "destroy", "-endpoint", c.Endpoint(), "-region", region, "-name", "none")
	require.NoError(t, err, "signed with the token")
	assert.Contains(t, out, "nothing to remove")

	_, err = cli(t, "destroy", "-endpoint", "http://10.1.2.3:9", "-region", region, "-name", "none")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "loopback")
}

// TestFakeCloudAddr: the fake runs what is deployed to it, so it listens
// beyond loopback only with credentials of one's own.
func TestFakeCloudAddr(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var out strings.Builder
	err := run(ctx, []string{"fakecloud", "-addr", "0.0.0.0:0"}, &out, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not loopback")
	err = run(ctx, []string{"fakecloud", "-addr", "0.0.0.0:0", "-secret-id", "AKIDmine", "-secret-key", "mine"}, &out, &out)
	require.NoError(t, err, "with credentials of one's own")
	assert.Contains(t, out.String(), "destroy -endpoint")
}
