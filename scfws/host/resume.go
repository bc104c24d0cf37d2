package host

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/scfws/scfws-go/internal/gateway"
	"github.com/scfws/scfws-go/internal/wire"
)

// The reliable mode's keeping of detached connections (see the package
// doc, "Staying connected across cuts"): in memory without Options.Redis,
// else on Redis, under the hash tag of the connection's home instance (the
// one that accepted it, named by the first 8 characters of its ID):
//
//	<prefix>{<home>}:conns     hash: reliable connection → the instance holding it, or "-" when detached
//	<prefix>{<home>}:p:<id>    hash: a detached connection's state (token hash, seqs, bounds, deadline)
//	<prefix>{<home>}:b:<id>    list: its unacknowledged messages and what came while detached
//	<prefix>{<home>}:pbytes    the bytes of all those lists (Options.MaxParkedBytes)
//	<prefix>parked             sorted set: detached connections by deadline, swept by every instance
//
// A push to a reliable connection is one script call on its home's slot
// (relPushScript): appended to its stream when the home holds it, to its
// list when it is detached, and redirected to the instance that resumed
// it otherwise (a second call, on that instance's stream).

// Reliable-mode defaults.
const (
	defaultResumeWindow      = 2 * time.Minute
	defaultMaxResumeMessages = 1000
	defaultMaxResumeBytes    = 1 << 20
	defaultMaxParkedBytes    = 64 << 20
	sweepEvery               = time.Second
)

// parkTimeout bounds a store call of the reliable mode.
const parkTimeout = 5 * time.Second

// reliableMark is the ID character (after the instance) that marks a
// connection in the reliable mode, so that a push knows it from its ID.
const reliableMark = '/'

func isReliable(id string) bool { return len(id) == 24 && id[instanceLen] == reliableMark }

// keeper is what the host adds to gateway.Reliable: pushes to reliable
// connections this instance does not hold.
type keeper interface {
	gateway.Reliable
	push(ctx context.Context, ids []string, m gateway.Outgoing, answer func(id string, status int, body []byte, err error))
	close(ctx context.Context)
}

var (
	errResumeGone  = &gateway.ResumeError{Code: gateway.CodeResumeGone, Reason: "resume impossible: the window is over or the connection is unknown"}
	errResumeLost  = &gateway.ResumeError{Code: gateway.CodeResumeGone, Reason: "resume impossible: its buffer went past its bound"}
	errResumeToken = &gateway.ResumeError{Code: gateway.CodeResumeToken, Reason: "resume refused: not the connection's current token"}
	errResumeLive  = &gateway.ResumeError{Code: gateway.CodeResumeRetry, Reason: "connection still attached: retry"}
)

type limits struct {
	window              time.Duration
	maxMsgs             int
	maxBytes, maxParked int64
}

func (s *Server) limits() limits {
	o := &s.opts
	return limits{
		window:    orDefault(o.ResumeWindow, defaultResumeWindow),
		maxMsgs:   int(orDefault(int64(o.MaxResumeMessages), defaultMaxResumeMessages)),
		maxBytes:  orDefault(o.MaxResumeBytes, defaultMaxResumeBytes),
		maxParked: orDefault(o.MaxParkedBytes, defaultMaxParkedBytes),
	}
}

// ---- in memory: one instance ----

type memKeeper struct {
	limits
	cleanup func(id string)
	mu      sync.Mutex
	parked  map[string]*memParked
	bytes   int64
}

type memParked struct {
	p     *gateway.Parked
	bytes int64
	lost  bool
	timer *time.Timer
}

func newMemKeeper(l limits, cleanup func(string)) *memKeeper {
	return &memKeeper{limits: l, cleanup: cleanup, parked: map[string]*memParked{}}
}

func (k *memKeeper) Window() time.Duration                { return k.window }
func (k *memKeeper) Attach(context.Context, string) error { return nil }
func (k *memKeeper) Ended(string)                         {}
func (k *memKeeper) close(context.Context)                {}
func bufBytes(b []gateway.Buffered) (n int64) {
	for _, m := range b {
		n += int64(len(m.Data))
	}
	return n
}

func (k *memKeeper) Park(_ context.Context, p *gateway.Parked) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	mp := &memParked{p: p, bytes: bufBytes(p.Buffer)}
	if k.bytes+mp.bytes > k.maxParked {
		mp.lost, mp.bytes, p.Buffer = true, 0, nil
	}
	k.bytes += mp.bytes
	k.parked[p.ID] = mp
	mp.timer = time.AfterFunc(k.window, func() { k.expire(p.ID, mp) })
	return nil
}

func (k *memKeeper) expire(id string, mp *memParked) {
	k.mu.Lock()
	if k.parked[id] != mp {
		k.mu.Unlock()
		return
	}
	delete(k.parked, id)
	k.bytes -= mp.bytes
	k.mu.Unlock()
	k.cleanup(id)
}

func (k *memKeeper) Claim(_ context.Context, id, tokenHash, origin string) (*gateway.Parked, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	mp := k.parked[id]
	switch {
	case mp == nil:
		return nil, errResumeGone
	case mp.lost:
		return nil, errResumeLost
	case mp.p.TokenHash != tokenHash || mp.p.Origin != origin:
		return nil, errResumeToken
	}
	mp.timer.Stop()
	delete(k.parked, id)
	k.bytes -= mp.bytes
	return mp.p, nil
}

func (k *memKeeper) push(_ context.Context, ids []string, m gateway.Outgoing, answer func(string, int, []byte, error)) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, id := range ids {
		mp := k.parked[id]
		if mp == nil || mp.lost {
			answer(id, wire.NotFound.Status, wire.NotFound.Body(), nil)
			continue
		}
		b := gateway.Buffered{Kind: bufKind(m), Data: m.Data}
		n := int64(len(b.Data))
		if len(mp.p.Buffer)+1 > k.maxMsgs || mp.bytes+n > k.maxBytes || k.bytes+n > k.maxParked {
			k.bytes -= mp.bytes
			mp.lost, mp.bytes, mp.p.Buffer = true, 0, nil
			answer(id, wire.NotFound.Status, wire.NotFound.Body(), nil)
			continue
		}
		mp.p.Buffer = append(mp.p.Buffer, b)
		mp.p.Out++
		mp.bytes += n
		k.bytes += n
		ok := wire.Answer{Status: http.StatusOK}
		answer(id, ok.Status, ok.Body(), nil)
	}
}

func bufKind(m gateway.Outgoing) byte {
	switch {
	case m.Closing:
		return gateway.BufClosing
	case m.Binary:
		return gateway.BufBinary
	}
	return gateway.BufText
}

// answerBus answers a push with a bus result (bus.go).
func answerBus(id string, r busResult, err error, answer func(string, int, []byte, error)) {
	var a wire.Answer
	switch {
	case err != nil:
		err = fmt.Errorf("host: pushing over Redis: %w", err)
	case r == busDelivered:
		a = wire.Answer{Status: http.StatusOK}
	case r == busGone:
		a = wire.NotFound
	case r == busBacklogFull:
		err = errBusBacklogFull
	default:
		err = errBusUnreachable
	}
	if err != nil {
		answer(id, 0, nil, err)
		return
	}
	answer(id, a.Status, a.Body(), nil)
}

func kindOf(m gateway.Outgoing) byte {
	switch {
	case m.Closing:
		return kindClosing
	case m.Binary:
		return kindBinary
	}
	return kindText
}
