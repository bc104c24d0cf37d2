package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scfws/scfws-go/internal/fakecloud"
	"github.com/scfws/scfws-go/internal/redistest"
	"github.com/scfws/scfws-go/internal/tcapi"
)

const (
	fakeID, fakeKey = "AKIDdeploytest", "deploytestkey"
	region          = "ap-guangzhou"
)

// cloud starts a fake Tencent Cloud and the credentials for it.
func cloud(t *testing.T) *fakecloud.Server {
	t.Helper()
	c, err := fakecloud.New(fakeID, fakeKey, "", &fakecloud.Options{Output: os.Stderr})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	t.Setenv("TENCENTCLOUD_SECRET_ID", fakeID)
	t.Setenv("TENCENTCLOUD_SECRET_KEY", fakeKey)
	t.Setenv("TENCENTCLOUD_SESSION_TOKEN", "")
	return c
}

// cli runs the command as a user types it (after "scfws"), in the test's
// folder; its output and error.
func cli(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	err := run(ctx, args, &out, &errOut)
	if err != nil {
		t.Logf("scfws %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String(), err
}

var clientURL = regexp.MustCompile(`client URL: (wss://\S+)\n\s+(ws://\S+)\n`)

// chat joins the chat room at url as nick and returns the connection.
func chat(t *testing.T, url, nick string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"scfws-chat.v1"}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.CloseNow() })
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(`{"type":"hello","nick":"`+nick+`"}`)))
	return c
}

// until reads c until a message containing s.
func until(t *testing.T, c *websocket.Conn, s string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, b, err := c.Read(ctx)
		require.NoError(t, err, "waiting for %q", s)
		if strings.Contains(string(b), s) {
			return string(b)
		}
	}
}

// TestDeployChatroom deploys the chat room to the local cloud with the
// command as a user types it, chats through the URL it printed (two
// connections: two instances, on redis-server), deploys other code under
// the same name (code only, no create), plans a change (nothing changes),
// and destroys it (nothing is left).
func TestDeployChatroom(t *testing.T) {
	rs, err := redistest.Start(os.Stderr)
	require.NoError(t, err)
	t.Cleanup(rs.Close) // after the cloud's instances
	c := cloud(t)
	t.Setenv("REDIS_URL", "redis://"+rs.Addr+"/0")

	out, err := cli(t, "deploy", "-endpoint", c.Endpoint(), "-region", region, "-name", "chat",
		"-env", "REDIS_URL=${REDIS_URL}", "../../../examples/chatroom")
	require.NoError(t, err)
	m := clientURL.FindStringSubmatch(out)
	require.NotNil(t, m, "the client URL is printed:\n%s", out)
	assert.Contains(t, out, "CreateFunction")
	assert.Contains(t, out, "CreateTrigger")
	assert.Regexp(t, `\[\s+\d+\.\ds\] `, out, "each step with its elapsed time")
	ws := m[2]

	ann := chat(t, ws, "ann")
	until(t, ann, `"type":"welcome"`) // in the lobby before bob comes, or she would not hear him join
	bob := chat(t, ws, "bob")         // one instance each: they meet on Redis
	until(t, ann, "bob joined lobby")
	ctx := context.Background()
	require.NoError(t, bob.Write(ctx, websocket.MessageText, []byte(`{"type":"say","text":"hello through the cloud"}`)))
	assert.Contains(t, until(t, ann, "hello through the cloud"), `"from":"bob"`)

	calls := len(c.Calls())
	out, err = cli(t, "deploy", "-endpoint", c.Endpoint(), "-region", region, "-name", "chat",
		"-env", "REDIS_URL=${REDIS_URL}", "../../../examples/webecho")
	require.NoError(t, err)
	assert.Contains(t, out, "UpdateFunctionCode")
	again := c.Calls()[calls:]
	assert.NotContains(t, again, "CreateFunction")
	assert.NotContains(t, again, "CreateTrigger")
	assert.Equal(t, m[0], clientURL.FindString(out), "the same URL")
	ectx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	e, _, err := websocket.Dial(ectx, ws, &websocket.DialOptions{Subprotocols: []string{"echo"}})
	require.NoError(t, err, "the new code serves")
	defer e.CloseNow()
	assert.Equal(t, "echo", e.Subprotocol())

	calls = len(c.Calls())
	out, err = cli(t, "deploy", "-plan", "-memory", "256", "-endpoint", c.Endpoint(), "-region", region, "-name", "chat",
		"-env", "REDIS_URL=${REDIS_URL}", "../../../examples/webecho")
	require.NoError(t, err)
	assert.Contains(t, out, "memory 128 → 256 MB")
	assert.NotContains(t, out, "update the code", "the same code")
	for _, call := range c.Calls()[calls:] {
		assert.Contains(t, []string{"GetFunction", "ListTriggers"}, call, "-plan only reads")
	}
	out, err = cli(t, "deploy", "-endpoint", c.Endpoint(), "-region", region, "-name", "chat",
		"-env", "REDIS_URL=${REDIS_URL}", "../../../examples/webecho")
	require.NoError(t, err)
	assert.Contains(t, out, "up to date")

	out, err = cli(t, "destroy", "-endpoint", c.Endpoint(), "-region", region, "-name", "chat")
	require.NoError(t, err)
	assert.Contains(t, out, "is gone")
	err = api(t, c).Call(ctx, "GetFunction", map[string]string{"FunctionName": "chat"}, nil)
	require.True(t, tcapi.IsCode(err, "ResourceNotFound"), "%v", err)
	out, err = cli(t, "destroy", "-endpoint", c.Endpoint(), "-region", region, "-name", "chat")
	require.NoError(t, err, "destroying nothing is no error")
	assert.Contains(t, out, "nothing to remove")
}

func api(t *testing.T, c *fakecloud.Server) *tcapi.Client {
	cred, _, err := tcapi.Credential()
	require.NoError(t, err)
	api, err := tcapi.New(cred, region, "scf", "2018-04-16", &tcapi.Options{Endpoint: c.Endpoint(), Retries: -1})
	require.NoError(t, err)
	return api
}

// zipOf returns a zip (base64) of files, with mode.
func zipOf(t *testing.T, mode os.FileMode, files map[string]string) string {
	var buf bytes.Buffer
	var zf []zipFile
	for name, data := range files {
		zf = append(zf, zipFile{name: name, data: []byte(data)})
	}
	require.NoError(t, zipTo(&buf, zf, time.Now()))
	if mode != 0o755 { // rewrite the modes
		return base64.StdEncoding.EncodeToString(rezip(t, buf.Bytes(), mode))
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

// TestDeployFailures: each failure ends with one line that says what
// happened, with Tencent's code and RequestId when it is the API's, and a
// non-zero exit.
func TestDeployFailures(t *testing.T) {
	ctx := context.Background()
	deployTo := func(c *fakecloud.Server, name string, extra ...string) (string, error) {
		args := append([]string{"deploy", "-endpoint", c.Endpoint(), "-region", region, "-name", name, "-retries", "1", "-wait", "2s"}, extra...)
		return cli(t, append(args, "../../../examples/webecho")...)
	}
	oneLine := func(t *testing.T, err error, want ...string) {
		t.Helper()
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "\n", "one line")
		for _, w := range want {
			assert.Contains(t, err.Error(), w)
		}
	}

	t.Run("RequestLimitExceeded", func(t *testing.T) {
		c := cloud(t)
		c.Inject("GetFunction", "RequestLimitExceeded", 1)
		_, err := deployTo(c, "limited")
		require.NoError(t, err, "retried once, then through")
		c.Inject("*", "RequestLimitExceeded", 100)
		_, err = deployTo(c, "limited")
		oneLine(t, err, "RequestLimitExceeded", "RequestId")
	})
	t.Run("Updating", func(t *testing.T) {
		c := cloud(t)
		_, err := deployTo(c, "busy")
		require.NoError(t, err)
		c.SetSettle(1 << 20) // never settles
		require.NoError(t, api(t, c).Call(ctx, "UpdateFunctionConfiguration", map[string]any{"FunctionName": "busy", "MemorySize": 256}, nil))
		_, err = deployTo(c, "busy")
		oneLine(t, err, "still Updating")
		assert.NotContains(t, c.Calls()[len(c.Calls())-3:], "UpdateFunctionCode", "nothing sent while it changes")
	})
	t.Run("CreateFailed", func(t *testing.T) {
		c := cloud(t)
		require.NoError(t, api(t, c).Call(ctx, "CreateFunction", map[string]any{"FunctionName": "broken", "Type": "HTTP",
			"ProtocolType": "WS", "Timeout": 900, "Description": "deployed by scfws, code sha256 0", "Code": map[string]string{"ZipFile": zipOf(t, 0o644, map[string]string{"scf_bootstrap": "#!/bin/bash\n"})}}, nil))
		_, err := deployTo(c, "broken")
		oneLine(t, err, "CreateFailed", "755", "scfws destroy")
	})
	t.Run("bad credential", func(t *testing.T) {
		c := cloud(t)
		t.Setenv("TENCENTCLOUD_SECRET_KEY", "wrong")
		_, err := deployTo(c, "anything")
		oneLine(t, err, "AuthFailure.SignatureFailure", "RequestId")
	})
	t.Run("oversize zip", func(t *testing.T) {
		c := cloud(t)
		dir := t.TempDir()
		blob := make([]byte, 8<<20)
		_, _ = rand.Read(blob)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "blob"), blob, 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module big\n\ngo 1.26\n"), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nimport _ \"embed\"\n\n//go:embed blob\nvar blob []byte\n\nfunc main() { println(len(blob)) }\n"), 0o644))
		_, err := cli(t, "deploy", "-endpoint", c.Endpoint(), "-region", region, "-name", "big", dir)
		oneLine(t, err, "over the 10000000 a signed request may have")
		assert.NotContains(t, c.Calls(), "CreateFunction")
	})
	t.Run("without WebSocket", func(t *testing.T) {
		c := cloud(t)
		require.NoError(t, api(t, c).Call(ctx, "CreateFunction", map[string]any{"FunctionName": "plain", "Type": "HTTP",
			"Code": map[string]string{"ZipFile": zipOf(t, 0o755, map[string]string{"scf_bootstrap": "#!/bin/bash\n"})}}, nil))
		_, err := deployTo(c, "plain")
		oneLine(t, err, "without WebSocket", "cannot be turned on later")
		assert.NotContains(t, c.Calls(), "DeleteFunction", "never deleted")
		out, err := cli(t, "destroy", "-endpoint", c.Endpoint(), "-region", region, "-name", "plain")
		oneLine(t, err, "not deployed by scfws")
		_ = out
	})
	t.Run("config file and missing secret", func(t *testing.T) {
		c := cloud(t)
		cfg := filepath.Join(t.TempDir(), "scfws.json")
		raw, _ := json.Marshal(map[string]any{"name": "fromfile", "region": region, "env": map[string]string{"TOKEN": "${NOT_SET_ANYWHERE}"}})
		require.NoError(t, os.WriteFile(cfg, raw, 0o644))
		_, err := cli(t, "deploy", "-config", cfg, "-endpoint", c.Endpoint(), "../../../examples/webecho")
		oneLine(t, err, "env TOKEN: ${NOT_SET_ANYWHERE} not set")
		assert.Empty(t, c.Calls(), "nothing called")
	})
}

// rezip rewrites every file's mode in a zip.
func rezip(t *testing.T, in []byte, mode os.FileMode) []byte {
	zr, err := zip.NewReader(bytes.NewReader(in), int64(len(in)))
	require.NoError(t, err)
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		h := f.FileHeader
		h.SetMode(mode)
		w, err := zw.CreateHeader(&h)
		require.NoError(t, err)
		rc, err := f.Open()
		require.NoError(t, err)
		_, err = io.Copy(w, rc)
		require.NoError(t, err)
		rc.Close()
	}
	require.NoError(t, zw.Close())
	return out.Bytes()
}
