package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// The bus between instances, on Redis. Each instance has, under the hash
// tag of its ID (one Cluster slot for all of them):
//
//	<prefix>{<instance>}:live     its lease, renewed every Lease/5 while it serves
//	<prefix>{<instance>}:stream   a stream of frames (frame.go) for it to read
//	<prefix>{<instance>}:bytes    the bytes in the stream it has not read yet
//	<prefix>{<instance>}:missing  when a push first found its lease missing
//	<prefix>{<instance>}:gone     set when it left cleanly
//	<prefix>{<instance>}:lease    its Options.Lease, in ms, for the pushes of others
//
// A push to a connection another instance holds is one script call on that
// instance's slot (pushScript) that appends one frame to its stream: the
// message once, with every connection of that instance it goes to. The
// instance reads its stream (XREAD BLOCK) from where it was, so a push to
// an instance that is alive but momentarily off Redis waits for it there,
// and nothing Redis's pub/sub flow control could drop is in flight.
//
// What a push across instances is answered (busResult), and what each
// answer promises:
//
//   - delivered: the frame was appended to the stream of the instance that
//     holds the connection, while its lease was live and its unread bytes
//     under Options.MaxBusBacklog. That instance delivers it — exactly once,
//     in the order its sender appended it — unless the instance dies first
//     (then its connections are gone too) or Redis loses the stream (a
//     restart without persistence, a failover: what was not yet read).
//     A connection that closed meanwhile drops it: its cleanup has run.
//   - gone (ErrPushRefused): the instance left cleanly, or its lease has
//     lapsed and stayed missing for a whole Lease since a push first found
//     it missing. Never for an instance that is alive: one whose lease a
//     push found missing (Redis restarted and lost it; the instance is cut
//     off) is unreachable until then, and an instance that renews after
//     having been taken for gone first closes all its connections (1001),
//     so a refused connection is never one still open.
//   - unreachable, backlog full, or a Redis error (ErrPushUnavailable):
//     not appended. Nothing to prune; the caller may retry.
//
// At most once whatever the app's go-redis options: a script call resent
// after its reply was lost appends the frame again, and the reader drops
// the copy (dedupe, frame.go).
type bus struct {
	busConfig
	rdb  redis.UniversalClient
	keep time.Duration // how long an instance's stream outlives its last push or renewal

	dests   sync.Map // destination instance → *dest
	cancel  context.CancelFunc
	done    sync.WaitGroup
	renewed atomic.Int64 // unix nanoseconds of the last successful renewal

	leaving  atomic.Bool   // close: read to the end, then leave
	readDone chan struct{} // closed when the reader returns
	leftErr  error         // the reader's leaving, once readDone is closed
}

// dest is what a sender keeps per destination instance: its keys, made
// once, and its count of frames sent there (the frames' seq).
type dest struct {
	keys []string
	seq  atomic.Uint64
}

// busResult is pushScript's answer.
type busResult int64

const (
	busBacklogFull busResult = -2
	busUnreachable busResult = -1
	busGone        busResult = 0
	busDelivered   busResult = 1
)

var (
	errBusUnreachable = errors.New("the instance holding the connection is not renewing its lease on Redis (off Redis or just stopped); not yet known gone")
	errBusBacklogFull = errors.New("the instance holding the connection has too much unread on Redis (host.Options.MaxBusBacklog)")
)

// readCount and readBlock shape the reader's XREAD: up to readCount frames
// at a time, waiting up to readBlock for the first.
const (
	readCount = 256
	readBlock = 2 * time.Second
)

// The reader trims what it delivered once trimEvery frames or trimBytes
// are untrimmed, or after trimAfter with nothing new. What it has not
// trimmed still counts against Options.MaxBusBacklog.
const (
	trimEvery = 64
	trimBytes = 1 << 20
	trimAfter = 100 * time.Millisecond
)

type busConfig struct {
	prefix, self string
	lease        time.Duration
	maxBacklog   int64
	log          *slog.Logger
	deliver      func(frame) // a frame for this instance, not seen before
	fence        func()      // this instance was taken for gone: close every connection
	// keepAlive names keys each renewal keeps alive, for how long
	keepAlive func() ([]string, time.Duration)
	// settle is called after the frames of each read were delivered;
	// settled waits until what it was given is done (before leaving)
	settle, settled func()
}

// startBus takes the instance's lease and starts reading its stream and
// renewing its lease.
func startBus(ctx context.Context, rdb redis.UniversalClient, c busConfig) (*bus, error) {
	b := &bus{busConfig: c, rdb: rdb, keep: max(10*time.Minute, 10*c.lease)}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if _, err := b.renew(ctx); err != nil {
		return nil, fmt.Errorf("host: joining the bus on Redis: %w", err)
	}
	rctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	b.readDone = make(chan struct{})
	b.done.Add(1)
	go func() {
		defer close(b.readDone)
		b.read(rctx)
	}()
	go b.renewLoop(rctx)
	b.log.Info("host: on the bus", "instance", b.self, "stream", b.key(b.self, "stream"))
	return b, nil
}

// key names one of an instance's keys; the braces are a Cluster hash tag.
func (b *bus) key(instance, what string) string { return b.prefix + "{" + instance + "}:" + what }

func (b *bus) keys(instance string) []string {
	return []string{b.key(instance, "live"), b.key(instance, "stream"), b.key(instance, "bytes"),
		b.key(instance, "missing"), b.key(instance, "gone"), b.key(instance, "lease")}
}

func ms(d time.Duration) int64 { return d.Milliseconds() }

// renewScript renews the lease and keeps the stream; it answers 1 when
// the lease had been found missing for a whole lease by a push (which may
// have been refused since).
var renewScript = redis.NewScript(`
local fenced = 0
if redis.call('EXISTS', KEYS[1]) == 0 then
	local seen = redis.call('GET', KEYS[4])
	if seen then
		local t = redis.call('TIME')
		local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
		if now - tonumber(seen) >= tonumber(ARGV[1]) then fenced = 1 end
	end
end
redis.call('DEL', KEYS[4], KEYS[5])
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
redis.call('SET', KEYS[6], ARGV[1], 'PX', ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('PEXPIRE', KEYS[3], ARGV[2])
return fenced
`)

// renew renews the lease; fenced is true when this instance had been
// taken for gone.
func (b *bus) renew(ctx context.Context) (fenced bool, err error) {
	n, err := renewScript.Run(ctx, b.rdb, b.keys(b.self), ms(b.lease), ms(b.keep)).Int64()
	if err != nil {
		return false, err
	}
	b.renewed.Store(time.Now().UnixNano())
	return n == 1, nil
}

// renewLoop renews the lease every Lease/5. When this instance was taken
// for gone, or was off Redis for longer than its stream is kept, pushes
// to its connections may have been refused or lost: it closes them all.
func (b *bus) renewLoop(ctx context.Context) {
	defer b.done.Done()
	t := time.NewTicker(b.lease / 5)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		last := time.Unix(0, b.renewed.Load())
		rctx, cancel := context.WithTimeout(ctx, b.lease/5)
		fenced, err := b.renew(rctx)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				b.log.Warn("host: renewing the lease on Redis failed", "err", err, "since", time.Since(last).Round(time.Millisecond))
			}
			continue
		}
		if b.keepAlive != nil {
			if keys, d := b.keepAlive(); len(keys) > 0 {
				rctx, cancel := context.WithTimeout(ctx, b.lease/5)
				_, _ = b.rdb.Pipelined(rctx, func(p redis.Pipeliner) error {
					for _, k := range keys {
						p.PExpire(rctx, k, d)
					}
					return nil
				})
				cancel()
			}
		}
		if fenced || time.Since(last) >= b.keep {
			b.log.Warn("host: this instance was taken for gone while off Redis: closing its connections")
			b.fence()
		}
	}
}

// pushScript appends frames to instances' streams: for each frame i (its
// instance's six keys at KEYS[6i-5..6i], the frame at ARGV[3+i]) it
// appends it if the instance's lease is live (busDelivered), and answers
// which of busResult it is otherwise. The lease that counts is the one the
// instance renewed with (its :lease key; ARGV[1], the publisher's, when
// that is gone too). One call carries every frame of a fan-out that Redis
// can run together: all of them on one server, one instance's in Cluster.
var pushScript = redis.NewScript(`
local out = {}
local t = nil
for i = 1, #KEYS / 6 do
	local k = (i - 1) * 6
	local frame = ARGV[3 + i]
	local r = 1
	if redis.call('EXISTS', KEYS[k + 1]) == 0 then
		r = -1
		if redis.call('EXISTS', KEYS[k + 5]) == 1 then
			r = 0
		else
			local lease = tonumber(redis.call('GET', KEYS[k + 6]) or ARGV[1])
			if not t then t = redis.call('TIME') end
			local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
			local seen = redis.call('GET', KEYS[k + 4])
			if not seen then
				redis.call('SET', KEYS[k + 4], now, 'PX', 3 * lease)
			elseif now - tonumber(seen) >= lease then
				r = 0
			end
		end
	else
		local backlog = redis.call('INCRBY', KEYS[k + 3], #frame)
		if backlog > #frame and backlog > tonumber(ARGV[2]) then
			redis.call('DECRBY', KEYS[k + 3], #frame)
			r = -2
		else
			redis.call('XADD', KEYS[k + 2], '*', 'f', frame)
			if backlog == #frame then
				-- the first unread frame: the keys may be new; the instance's
				-- renewals keep them from then on, and without them they expire
				redis.call('PEXPIRE', KEYS[k + 2], ARGV[3])
				redis.call('PEXPIRE', KEYS[k + 3], ARGV[3])
			end
		end
	end
	out[i] = r
end
return out
`)

// maxCallFrames bounds the frames of one script call, so that no call
// holds Redis long whatever the fan-out.
const maxCallFrames = 256

// to returns what this sender keeps for instance.
func (b *bus) to(instance string) *dest {
	d, ok := b.dests.Load(instance)
	if !ok {
		d, _ = b.dests.LoadOrStore(instance, &dest{keys: b.keys(instance)})
	}
	return d.(*dest)
}

// send appends one frame per instance (per maxFrameIDs of its
// connections): on one Redis server in one script call (per
// maxCallFrames), on a Cluster (or Ring) in one per instance, all
// pipelined. It calls answer once for each frame's IDs with its result,
// or the error that left it unknown.
func (b *bus) send(ctx context.Context, groups map[string][]string, kind byte, data []byte,
	answer func(ids []string, r busResult, err error)) {
	type part struct {
		ids   []string
		frame []byte
	}
	type call struct {
		scriptCall
		parts []part
	}
	_, cluster := b.rdb.(*redis.ClusterClient)
	if _, ring := b.rdb.(*redis.Ring); ring {
		cluster = true // keys of different instances may be on different shards
	}
	var calls []*call
	var cur *call
	for inst, ids := range groups {
		to := b.to(inst)
		if cluster || cur == nil || len(cur.parts) == maxCallFrames {
			cur = &call{scriptCall: scriptCall{args: []any{ms(b.lease), b.maxBacklog, ms(b.keep)}}}
			calls = append(calls, cur)
		}
		for len(ids) > 0 {
			n := min(len(ids), maxFrameIDs)
			f := frame{sender: b.self, seq: to.seq.Add(1), kind: kind, ids: ids[:n], data: data}
			enc := appendFrame(make([]byte, 0, frameSize(f)), f)
			cur.parts = append(cur.parts, part{ids: ids[:n], frame: enc})
			cur.keys = append(cur.keys, to.keys...)
			cur.args = append(cur.args, enc)
			ids = ids[n:]
		}
	}
	sc := make([]*scriptCall, len(calls))
	for i, c := range calls {
		sc[i] = &c.scriptCall
	}
	runScripts(ctx, b.rdb, pushScript, sc)
	for _, c := range calls {
		rs, err := c.cmd.Int64Slice()
		if err == nil && len(rs) != len(c.parts) {
			err = fmt.Errorf("the push script answered %d results for %d frames", len(rs), len(c.parts))
		}
		for i, p := range c.parts {
			if err != nil {
				answer(p.ids, 0, err)
			} else {
				answer(p.ids, busResult(rs[i]), nil)
			}
		}
	}
}

// scriptCall is one call of a script: its keys and arguments, then its
// answer.
type scriptCall struct {
	keys []string
	args []any
	cmd  *redis.Cmd
}

// runScripts runs script once per call, all pipelined (EVALSHA); the calls
// a server answered NOSCRIPT (a new or restarted Redis: not run) are sent
// again with the script's text.
func runScripts(ctx context.Context, rdb redis.UniversalClient, script *redis.Script, calls []*scriptCall) {
	run := func(which []*scriptCall, sha bool) {
		_, _ = rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, c := range which {
				if sha {
					c.cmd = script.EvalSha(ctx, p, c.keys, c.args...)
				} else {
					c.cmd = script.Eval(ctx, p, c.keys, c.args...)
				}
			}
			return nil
		})
	}
	run(calls, true)
	var again []*scriptCall
	for _, c := range calls {
		if err := c.cmd.Err(); err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
			again = append(again, c)
		}
	}
	if len(again) > 0 {
		run(again, false)
	}
}

// read delivers the frames of this instance's stream, in order, each
// once, and trims what it delivered: at the latest once trimEvery frames
// or trimBytes are delivered and untrimmed, and whenever the stream has
// nothing new (so an idle instance's stream is empty).
func (b *bus) read(ctx context.Context) {
	stream, bytesKey := b.key(b.self, "stream"), b.key(b.self, "bytes")
	var dd dedupe
	last, backoff := "0-0", 50*time.Millisecond
	lastForget := time.Now()
	var untrimmed, untrimmedBytes int64
	trim := func() {
		if untrimmed == 0 {
			return
		}
		if err := trimScript.Run(ctx, b.rdb, []string{stream, bytesKey}, after(last), untrimmedBytes).Err(); err != nil {
			if ctx.Err() == nil {
				b.log.Warn("host: trimming the bus stream failed", "err", err)
			}
			return
		}
		untrimmed, untrimmedBytes = 0, 0
	}
	for ctx.Err() == nil {
		block := readBlock
		if untrimmed > 0 {
			block = trimAfter // not idle long with frames untrimmed
		}
		leaving := b.leaving.Load()
		if leaving {
			block = -1 // no BLOCK: to the end, then leave
		}
		res, err := b.rdb.XRead(ctx, &redis.XReadArgs{Streams: []string{stream, last}, Count: readCount, Block: block}).Result()
		if errors.Is(err, redis.Nil) && leaving {
			trim()
			if b.settled != nil {
				b.settled() // what came for parked connections is in their lists before others append there
			}
			// gone only if nothing came after what was read: a frame
			// appended before that is delivered, none is left unread
			n, err := leaveScript.Run(ctx, b.rdb, b.keys(b.self), ms(b.keep), last).Int64()
			if err == nil && n == 1 {
				b.leftErr = nil
				return
			}
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				b.leftErr = err
				sleep(ctx, backoff)
			}
			continue
		}
		if errors.Is(err, redis.Nil) {
			if untrimmed > 0 {
				trim()
				continue
			}
			// Nothing after last, nothing untrimmed. Entries at or before
			// last are ones this reader never saw: Redis lost the stream
			// and new entries took older IDs. Read from the start.
			if n, err := b.rdb.XLen(ctx, stream).Result(); err == nil && n > 0 {
				last = "0-0"
			}
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			b.log.Warn("host: reading the bus failed", "err", err)
			sleep(ctx, backoff)
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
		for _, s := range res {
			for _, m := range s.Messages {
				last = m.ID
				untrimmed++
				raw, ok := m.Values["f"].(string)
				if !ok {
					continue // close's wake-up
				}
				untrimmedBytes += int64(len(raw))
				f, err := parseFrame([]byte(raw))
				if err != nil {
					b.log.Warn("host: dropped a malformed frame from the bus", "id", m.ID, "bytes", len(raw))
					continue
				}
				if !dd.fresh(f.sender, f.seq, time.Now()) {
					continue // a copy of one delivered (a resent command)
				}
				b.deliver(f)
			}
		}
		if b.settle != nil {
			b.settle()
		}
		if untrimmed >= trimEvery || untrimmedBytes >= trimBytes {
			trim()
		}
		if time.Since(lastForget) > time.Minute {
			dd.forget(time.Now().Add(-10 * time.Minute))
			lastForget = time.Now()
		}
	}
}

// trimScript drops what the reader delivered and counts it off.
var trimScript = redis.NewScript(`
redis.call('XTRIM', KEYS[1], 'MINID', ARGV[1])
if redis.call('DECRBY', KEYS[2], ARGV[2]) <= 0 then redis.call('DEL', KEYS[2]) end
return 0
`)

// after is the smallest stream ID greater than id ("ms-seq").
func after(id string) string {
	msPart, seqPart, _ := strings.Cut(id, "-")
	seq, _ := strconv.ParseUint(seqPart, 10, 64)
	return msPart + "-" + strconv.FormatUint(seq+1, 10)
}

// leaveScript marks the instance gone and frees its keys, when nothing
// was appended to its stream after ARGV[2] (the last entry it read);
// else 0.
var leaveScript = redis.NewScript(`
if #redis.call('XRANGE', KEYS[2], '(' .. ARGV[2], '+', 'COUNT', 1) > 0 then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[6])
redis.call('SET', KEYS[5], '1', 'PX', ARGV[1])
return 1
`)

// close stops reading and renewing and marks this instance gone: pushes
// to its connections are refused from then on. When Redis does not answer
// before ctx ends, it returns then, without having marked the instance
// gone: its lease lapses as a killed instance's does. (go-redis bounds its
// calls by its own timeouts, not by ctx: they finish in the background.)
func (b *bus) close(ctx context.Context) error {
	b.leaving.Store(true)
	// wake the reader from its XREAD BLOCK (an entry it does not deliver)
	go func() {
		_ = b.rdb.XAdd(context.Background(), &redis.XAddArgs{Stream: b.key(b.self, "stream"), Values: []string{"wake", ""}}).Err()
	}()
	select {
	case <-b.readDone:
		b.cancel() // the lease is renewed until the instance is gone
		b.done.Wait()
		if b.leftErr != nil {
			return fmt.Errorf("host: leaving the bus: %w", b.leftErr)
		}
		return nil
	case <-ctx.Done():
		b.cancel()
		return fmt.Errorf("host: leaving the bus: Redis did not answer: %w", ctx.Err())
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
