package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scfws/scfws-go/internal/redistest"
	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/client"
)

// keysOf lists what Redis still holds of connection id: keys that name
// it, fields of the conns hashes and members of the parked index.
func keysOf(t *testing.T, rdb *redis.Client, id string) []string {
	t.Helper()
	ctx := context.Background()
	var left []string
	keys, err := rdb.Keys(ctx, "scfws:*").Result()
	require.NoError(t, err)
	for _, k := range keys {
		if strings.Contains(k, id) {
			left = append(left, k)
		}
		if strings.HasSuffix(k, ":conns") {
			fields, _ := rdb.HKeys(ctx, k).Result()
			for _, f := range fields {
				if strings.Contains(f, id) {
					left = append(left, k+" "+f)
				}
			}
		}
	}
	if rdb.ZScore(ctx, "scfws:instance:parked", id).Err() == nil {
		left = append(left, "parked "+id)
	}
	return left
}

// TestWindowEnds: a client that does not come back within the window: its
// cleanup runs once, at the end of the window (on any instance: also when
// the one that kept it is gone), pushes to it are refused from then on,
// nothing of it is left on Redis, and the client is told.
func TestWindowEnds(t *testing.T) {
	_, rdb := startRedis(t)
	o := testOptions()
	o.ResumeWindow = 2 * time.Second
	b, _ := startHost(t, rdb, o)
	for _, homeLeaves := range []bool{false, true} {
		a, stopA := startHost(t, rdb, o)
		f := startFront(t, hostPort(a.srv.URL()))
		c := dialFront(t, frontURL(f))
		id := c.ID()
		require.NoError(t, b.push.Send(context.Background(), id, scfws.Text("before")))
		_, data, err := c.Read(context.Background())
		require.NoError(t, err)
		require.Equal(t, "before", string(data))

		f.Cut() // and it never comes back
		if homeLeaves {
			stopA() // the instance that keeps it leaves: another one ends it
		}
		cut := time.Now()
		require.Eventually(t, func() bool { return rdb.Get(context.Background(), "cleanups:"+id).Val() == "1" },
			10*time.Second, 20*time.Millisecond, "cleanup at the end of the window")
		assert.GreaterOrEqual(t, time.Since(cut), o.ResumeWindow-200*time.Millisecond, "not before the window ends")
		assert.ErrorIs(t, b.push.Send(context.Background(), id, scfws.Text("late")), scfws.ErrPushRefused, "refused from another instance")
		if !homeLeaves {
			assert.ErrorIs(t, a.push.Send(context.Background(), id, scfws.Text("late")), scfws.ErrPushRefused, "refused from its home")
		}
		assert.Empty(t, keysOf(t, rdb, id), "nothing of it left on Redis")
		time.Sleep(2 * time.Second) // sweeps go on
		assert.Equal(t, "1", rdb.Get(context.Background(), "cleanups:"+id).Val(), "one cleanup")

		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, _, err = c.Read(ctx)
		cancel()
		var ce *client.CloseError
		require.True(t, errors.As(err, &ce), "the client is told: %v", err)
		assert.Equal(t, client.CodeResumeGone, ce.Code)
	}
}

// rawDial opens a socket in the reliable mode at u with query q and
// returns it with its first control message, or the close code it got.
func rawDial(t *testing.T, u string, q url.Values) (*websocket.Conn, map[string]any, websocket.StatusCode) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if q != nil {
		u += "?" + q.Encode()
	}
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{Subprotocols: []string{client.Protocol}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = ws.CloseNow() })
	require.Equal(t, client.Protocol, ws.Subprotocol())
	_, data, err := ws.Read(ctx)
	if err != nil {
		return nil, nil, websocket.CloseStatus(err)
	}
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m))
	return ws, m, 0
}

func resumeQuery(token string, ack int) url.Values {
	return url.Values{"scfws_resume": {token}, "scfws_ack": {strconv.Itoa(ack)}}
}

// resumeEventually resumes with token, retrying while the connection is
// still attached (its old socket not yet found dead).
func resumeEventually(t *testing.T, u, token string) (*websocket.Conn, map[string]any, websocket.StatusCode) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ws, m, code := rawDial(t, u, resumeQuery(token, 0))
		if code != client.CodeResumeRetry || time.Now().After(deadline) {
			return ws, m, code
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestTokens: a resume token works once, for its connection, from its
// origin, and never takes over a connection still attached; a forged or
// replayed one is refused and leaves the connection resumable.
func TestTokens(t *testing.T) {
	_, rdb := startRedis(t)
	a, _ := startHost(t, rdb, testOptions())
	u := a.srv.URL()
	ws, welcome, _ := rawDial(t, u, nil)
	require.Equal(t, "welcome", welcome["type"])
	id, t1 := welcome["id"].(string), welcome["token"].(string)
	other, otherWelcome, _ := rawDial(t, u, nil)
	_ = other
	otherToken := otherWelcome["token"].(string)

	// attached: even its own token cannot take it over
	_, _, code := rawDial(t, u, resumeQuery(t1, 0))
	assert.Equal(t, client.CodeResumeRetry, code, "no takeover of an attached connection")
	require.NoError(t, a.push.Send(context.Background(), id, scfws.Text("still mine")))
	_, data, err := ws.Read(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "1:still mine", string(data), "the attached socket is untouched")

	_ = ws.CloseNow() // cut
	ws2, resumed, code := resumeEventually(t, u, t1)
	require.Equal(t, websocket.StatusCode(0), code)
	require.Equal(t, "resumed", resumed["type"])
	assert.Equal(t, id, resumed["id"])
	t2 := resumed["token"].(string)
	assert.NotEqual(t, t1, t2, "a new token at each resume")
	_, data, err = ws2.Read(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "1:still mine", string(data), "not acknowledged: sent again")

	_ = ws2.CloseNow() // cut again
	secret := t2[strings.LastIndexByte(t2, '.')+1:]
	otherID := otherToken[:strings.LastIndexByte(otherToken, '.')]
	for name, bad := range map[string]string{
		"replayed":           t1,
		"forged":             id + ".AAAAAAAAAAAAAAAAAAAAAAAA",
		"another's secret":   id + otherToken[strings.LastIndexByte(otherToken, '.'):],
		"for another conn":   otherID + "." + secret,
		"malformed":          "nonsense",
		"unknown connection": "AAAAAAAA/AAAAAAAAAAAAAAA." + secret,
	} {
		_, _, code := resumeEventually(t, u, bad)
		assert.Contains(t, []websocket.StatusCode{client.CodeResumeToken, client.CodeResumeGone}, code, name)
		if name != "unknown connection" && name != "for another conn" {
			assert.Equal(t, client.CodeResumeToken, code, name)
		}
	}
	// from another page
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	evil, _, err := websocket.Dial(ctx, u+"?"+resumeQuery(t2, 0).Encode(), &websocket.DialOptions{
		Subprotocols: []string{client.Protocol}, HTTPHeader: map[string][]string{"Origin": {"http://" + hostPort(u)}}})
	require.NoError(t, err) // its own host is an allowed origin, but not the one it was opened from (none)
	_, _, err = evil.Read(ctx)
	assert.Equal(t, client.CodeResumeToken, websocket.CloseStatus(err), "bound to the origin it was opened from")

	ws3, resumed, code := resumeEventually(t, u, t2)
	require.Equal(t, websocket.StatusCode(0), code, "the refused attempts left it resumable")
	assert.Equal(t, id, resumed["id"])
	_ = ws3
	assert.Equal(t, "1", rdb.Get(context.Background(), "registers:"+id).Val())
	assert.Equal(t, "", rdb.Get(context.Background(), "cleanups:"+id).Val())
}

// TestPlainUnaffected: a client that does not offer the subprotocol gets a
// plain connection: no control messages, no seqs, cleanup when it closes.
func TestPlainUnaffected(t *testing.T) {
	_, rdb := startRedis(t)
	a, _ := startHost(t, rdb, testOptions())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, a.srv.URL(), nil)
	require.NoError(t, err)
	require.NoError(t, ws.Write(ctx, websocket.MessageText, []byte("me")))
	_, data, err := ws.Read(ctx)
	require.NoError(t, err)
	id := string(data)
	assert.Len(t, id, 24)
	assert.NotEqual(t, byte('/'), id[8], "not marked reliable")
	require.NoError(t, a.push.Send(ctx, id, scfws.Text("plain")))
	_, data, err = ws.Read(ctx)
	require.NoError(t, err)
	assert.Equal(t, "plain", string(data))
	_ = ws.CloseNow()
	require.Eventually(t, func() bool { return rdb.Get(ctx, "cleanups:"+id).Val() == "1" }, 5*time.Second, 10*time.Millisecond,
		"cleanup at once")
}

// TestResumeCheck: Options.ResumeCheck binds a connection to its user: a
// resume without the user's credentials is refused, with them it resumes.
func TestResumeCheck(t *testing.T) {
	_, rdb := startRedis(t)
	o := testOptions()
	o.ResumeCheck = func(r *http.Request, id string) error {
		if r.URL.Query().Get("user") != rdb.Get(r.Context(), "user:"+id).Val() {
			return errors.New("not the connection's user")
		}
		return nil
	}
	a, _ := startHost(t, rdb, o)
	ws, welcome, _ := rawDial(t, a.srv.URL()+"?user=ann", nil)
	id, token := welcome["id"].(string), welcome["token"].(string)
	require.NoError(t, rdb.Set(context.Background(), "user:"+id, "ann", 0).Err()) // as a register function would
	_ = ws.CloseNow()
	q := resumeQuery(token, 0)
	q.Set("user", "mallory")
	_, _, code := rawDial(t, a.srv.URL(), q)
	assert.Equal(t, client.CodeResumeToken, code, "another user's resume")
	q.Set("user", "ann")
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, m, code := rawDial(t, a.srv.URL(), q)
		if code == client.CodeResumeRetry && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		require.Equal(t, websocket.StatusCode(0), code)
		assert.Equal(t, "resumed", m["type"])
		break
	}
}

// TestKilledInstance: kill -9 of the instance that holds a connection
// attached: pushes to it are unavailable, then refused once the instance
// is known gone (and its entry goes); the client cannot resume (4002
// until its window passes) and is told.
func TestKilledInstance(t *testing.T) {
	r, rdb := startRedis(t)
	p, _ := startHost(t, rdb, testOptions())
	a := startProcess(t, r.Addr, "SCFWS_TEST_WINDOW=3s")
	f := startFront(t, hostPort(a.url))
	c := dialFront(t, frontURL(f))
	id := c.ID()
	require.NoError(t, a.cmd.Process.Signal(syscall.SIGKILL))
	_ = a.cmd.Wait()
	require.Eventually(t, func() bool {
		return errors.Is(p.push.Send(context.Background(), id, scfws.Text("x")), scfws.ErrPushRefused)
	}, 10*time.Second, 50*time.Millisecond, "refused once its instance is known gone")
	assert.Empty(t, keysOf(t, rdb, id), "its entry went with the refusal")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_, _, err := c.Read(ctx)
	var ce *client.CloseError
	require.True(t, errors.As(err, &ce), "the client is told: %v", err)
	assert.Equal(t, client.CodeResumeGone, ce.Code)
}

// TestResumeBuffer: what a detached connection is kept is bounded; a
// buffer filled to its bound is replayed whole (whatever MaxQueued), and
// one push past it makes the connection unresumable: that push and the
// next are refused, the client is told 4000, its cleanup runs at the end
// of the window.
func TestResumeBuffer(t *testing.T) {
	_, rdb := startRedis(t)
	o := testOptions()
	o.MaxResumeBytes, o.MaxQueued, o.ResumeWindow = 16<<10, 16<<10, 3*time.Second
	a, _ := startHost(t, rdb, o)
	data := strings.Repeat("x", 1024)
	for _, over := range []bool{false, true} {
		f := startFront(t, hostPort(a.srv.URL()))
		c := dialFront(t, frontURL(f))
		id := c.ID()
		f.Cut() // refused until Restore: it stays detached
		for i := 0; i < 16; i++ {
			require.Eventually(t, func() bool { return a.push.Send(context.Background(), id, scfws.Text(data)) == nil },
				5*time.Second, 10*time.Millisecond, "push %d kept for it", i)
		}
		if over {
			assert.ErrorIs(t, a.push.Send(context.Background(), id, scfws.Text("one too many")), scfws.ErrPushRefused)
			assert.ErrorIs(t, a.push.Send(context.Background(), id, scfws.Text("and the next")), scfws.ErrPushRefused)
		}
		f.Restore()
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		if !over {
			for i := 0; i < 16; i++ {
				_, got, err := c.Read(ctx)
				require.NoError(t, err, "message %d", i)
				require.Equal(t, data, string(got))
			}
			assert.Equal(t, 1, c.Resumes())
		} else {
			_, _, err := c.Read(ctx)
			var ce *client.CloseError
			require.True(t, errors.As(err, &ce), "the client is told: %v", err)
			assert.Equal(t, client.CodeResumeGone, ce.Code)
			require.Eventually(t, func() bool { return rdb.Get(context.Background(), "cleanups:"+id).Val() == "1" },
				10*time.Second, 20*time.Millisecond, "cleanup at the end of the window")
		}
		cancel()
	}
}

// TestMalformedReliable: a reliable client's frame without its seq, out of
// order, or a control message that is not an acknowledgement (or that
// acknowledges what was never sent) ends the connection with 1002, told
// first, and its cleanup runs once.
func TestMalformedReliable(t *testing.T) {
	_, rdb := startRedis(t)
	a, _ := startHost(t, rdb, testOptions())
	for _, bad := range []string{"no seq", "7:out of order", `{"type":"hello"}`, `{"type":"ack","seq":99}`, "x:y"} {
		ws, welcome, _ := rawDial(t, a.srv.URL(), nil)
		id := welcome["id"].(string)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		require.NoError(t, ws.Write(ctx, websocket.MessageText, []byte(bad)))
		_, data, err := ws.Read(ctx)
		require.NoError(t, err, bad)
		assert.Contains(t, string(data), `"type":"end"`, bad)
		_, _, err = ws.Read(ctx)
		assert.Equal(t, websocket.StatusProtocolError, websocket.CloseStatus(err), bad)
		require.Eventually(t, func() bool { return rdb.Get(ctx, "cleanups:"+id).Val() == "1" },
			5*time.Second, 10*time.Millisecond, "cleanup once: %s", bad)
		cancel()
	}
}

// TestLostReplies: go-redis resends a command whose reply it lost (a read
// timeout after Redis ran it). A push to a detached connection kept in its
// list (its instance gone) is kept once; a resume's claim answered twice
// resumes once — not refused as "still attached" by its own first run.
func TestLostReplies(t *testing.T) {
	r, rdb := startRedis(t)
	lossy := func() (*redistest.Proxy, *redis.Client) {
		p := startFront(t, r.Addr)
		c := redis.NewClient(&redis.Options{Addr: p.Addr, ReadTimeout: 300 * time.Millisecond})
		t.Cleanup(func() { _ = c.Close() })
		return p, c
	}
	pp, prdb := lossy()
	po := testOptions()
	po.Redis = prdb
	pusher, _ := startHost(t, rdb, po)
	bp, brdb := lossy()
	bo := testOptions()
	bo.Redis = brdb
	b, _ := startHost(t, rdb, bo)
	a, stopA := startHost(t, rdb, testOptions())
	f := startFront(t, hostPort(a.srv.URL()))
	c := dialFront(t, frontURL(f))
	id := c.ID()
	read := func(want string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_, data, err := c.Read(ctx)
		require.NoError(t, err)
		require.Equal(t, want, string(data))
	}
	// a first cut and resume on A: the scripts are loaded on the server
	require.NoError(t, pusher.push.Send(context.Background(), id, scfws.Text("warm")))
	read("warm")
	f.Cut()
	f.Restore()
	require.NoError(t, pusher.push.Send(context.Background(), id, scfws.Text("warm again")))
	read("warm again")

	f.Cut() // it stays away while its instance leaves: kept in Redis
	stopA()
	pp.DropReply(id)
	if err := pusher.push.Send(context.Background(), id, scfws.Text("once")); err != nil {
		require.ErrorIs(t, err, scfws.ErrPushUnavailable)
	}
	require.Equal(t, 1, pp.Dropped(), "a push's reply was lost")
	require.NoError(t, pusher.push.Send(context.Background(), id, scfws.Text("after")))

	bp.DropReply(id) // the next command naming it on B's link: its claim
	f.To(hostPort(b.srv.URL()))
	f.Restore()
	read("once")
	read("after")
	assert.Equal(t, 1, bp.Dropped(), "a claim's reply was lost")
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, data, err := c.Read(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "nothing twice (got %q)", data)
	assert.Equal(t, 1, b.srv.Open())
	assert.Equal(t, "", rdb.Get(context.Background(), "cleanups:"+id).Val())
}
