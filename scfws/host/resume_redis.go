package host

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scfws/scfws-go/internal/gateway"
)

// The reliable mode on Redis. A reliable connection's entry in its home's
// conns hash says who holds it: an instance ID (attached there), or "-"
// and the instance that parked it (detached). Its messages reach it by
// one path at a time, so they keep their order across every move:
//
//   - attached at its home: appended to the home's stream (in the same
//     script that reads the entry);
//   - attached elsewhere: the script answers that instance, and the sender
//     appends the message to its stream (a second call);
//   - detached, while the instance that parked it is alive: to that
//     instance's stream as well, whose reader appends it to the
//     connection's list in stream order (arriveScript);
//   - detached, the instance that parked it gone: to the list directly.
//
// A message sent to a stream and not yet read there is counted under the
// connection (conns fields n:<id>, t:<id>); a resume waits (close code
// 4002, retry) until none is, so that what the resumed connection is
// given and what comes to it next are in order. An instance that leaves
// reads its stream to the end before it is marked gone (bus.close), so no
// message is left behind there. What an instance killed (-9) had not
// read is lost with it, as for any push (bus.go); its count lapses after
// inflightStale.
type redisKeeper struct {
	limits
	s       *Server
	rdb     redis.UniversalClient
	prefix  string
	self    string
	mu      sync.Mutex
	homes   map[string]int // homes of the connections resumed here: their conns keys are kept alive
	stop    context.CancelFunc
	swept   sync.WaitGroup
	cleanup func(id string)
}

// inflightStale is how long a count of messages on their way to a stream
// holds a resume back: past it, the stream's instance is taken for dead.
const inflightStale = 10 * time.Second

// start starts sweeping.
func (k *redisKeeper) start() {
	ctx, cancel := context.WithCancel(context.Background())
	k.stop = cancel
	k.swept.Add(1)
	go k.sweep(ctx)
}

func (k *redisKeeper) close(ctx context.Context) {
	if k.stop == nil {
		return
	}
	k.stop()
	done := make(chan struct{})
	go func() { k.swept.Wait(); close(done) }()
	select { // a sweep's Redis call is bounded by go-redis's timeouts, not by ctx
	case <-done:
	case <-ctx.Done():
	}
}

func (k *redisKeeper) Window() time.Duration { return k.window }

// hk names a key under a home's hash tag.
func (k *redisKeeper) hk(home, what string) string { return k.prefix + "{" + home + "}:" + what }

func (k *redisKeeper) connKeys(id string) []string {
	home := instanceOf(id)
	return []string{k.hk(home, "conns"), k.hk(home, "p:"+id), k.hk(home, "b:"+id), k.hk(home, "pbytes")}
}

// ttl is how long a detached connection's keys outlive its deadline, so
// that a sweep finds them.
func (k *redisKeeper) ttl() time.Duration { return k.window + time.Minute }

// keepMs is how long a conns hash lives without a renewal from an
// instance holding one of its connections.
func (k *redisKeeper) keepMs() int64 { return ms(max(10*time.Minute, 2*k.window)) }

var attachScript = redis.NewScript(`
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 0
`)

func (k *redisKeeper) Attach(ctx context.Context, id string) error {
	return attachScript.Run(ctx, k.rdb, k.connKeys(id)[:1], id, k.self, k.keepMs()).Err()
}

// endedScript forgets a connection that ended on the instance ARGV[2].
var endedScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
	redis.call('HDEL', KEYS[1], ARGV[1], 'n:' .. ARGV[1], 't:' .. ARGV[1], 'c:' .. ARGV[1])
end
return 0
`)

func (k *redisKeeper) Ended(id string) {
	k.held(id, -1)
	ctx, cancel := context.WithTimeout(context.Background(), parkTimeout)
	defer cancel()
	if err := endedScript.Run(ctx, k.rdb, k.connKeys(id)[:1], id, k.self).Err(); err != nil {
		k.s.logWarn("host: forgetting an ended reliable connection failed (its entry expires)", "secConnectionID", id, "err", err)
	}
}

// held counts the connections resumed here, by home.
func (k *redisKeeper) held(id string, d int) {
	home := instanceOf(id)
	if home == k.self {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.homes[home] += d; k.homes[home] <= 0 {
		delete(k.homes, home)
	}
}

// heldHomes returns the conns keys this instance keeps alive.
func (k *redisKeeper) heldHomes() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	keys := []string{k.hk(k.self, "conns")}
	for h := range k.homes {
		keys = append(keys, k.hk(h, "conns"))
	}
	return keys
}

// parkScript keeps a detached connection: KEYS conns, p, b, pbytes; ARGV
// id, token hash, protocol, origin, out, in, window ms, ttl ms, max parked
// bytes, keep ms, the parking instance, then its messages (a kind byte
// and the data each).
var parkScript = redis.NewScript(`
local bytes = 0
for i = 12, #ARGV do bytes = bytes + #ARGV[i] - 1 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('DEL', KEYS[2], KEYS[3])
local lost = 0
local pb = tonumber(redis.call('GET', KEYS[4]) or '0')
if pb + bytes > tonumber(ARGV[9]) then
	lost, bytes = 1, 0
elseif #ARGV >= 12 then
	redis.call('RPUSH', KEYS[3], unpack(ARGV, 12))
	redis.call('PEXPIRE', KEYS[3], ARGV[8])
	redis.call('INCRBY', KEYS[4], bytes)
end
redis.call('PEXPIRE', KEYS[4], ARGV[8])
redis.call('HSET', KEYS[2], 'token', ARGV[2], 'protocol', ARGV[3], 'origin', ARGV[4], 'out', ARGV[5], 'in', ARGV[6],
	'n', #ARGV - 11, 'bytes', bytes, 'lost', lost, 'deadline', now + tonumber(ARGV[7]))
redis.call('PEXPIRE', KEYS[2], ARGV[8])
redis.call('HSET', KEYS[1], ARGV[1], '-' .. ARGV[11])
redis.call('PEXPIRE', KEYS[1], ARGV[10])
return now + tonumber(ARGV[7])
`)

func (k *redisKeeper) Park(ctx context.Context, p *gateway.Parked) error {
	args := []any{p.ID, p.TokenHash, p.Protocol, p.Origin, p.Out, p.In, ms(k.window), ms(k.ttl()), k.maxParked,
		k.keepMs(), k.self}
	for _, b := range p.Buffer {
		args = append(args, append([]byte{b.Kind}, b.Data...))
	}
	deadline, err := parkScript.Run(ctx, k.rdb, k.connKeys(p.ID), args...).Int64()
	if err != nil {
		return err
	}
	k.held(p.ID, -1)
	// the sweep's index; without it the keys expire and no cleanup runs
	if err := k.rdb.ZAdd(ctx, k.prefix+"parked", redis.Z{Score: float64(deadline), Member: p.ID}).Err(); err != nil {
		k.s.logWarn("host: indexing a detached connection failed: its cleanup will not run", "secConnectionID", p.ID, "err", err)
	}
	return nil
}

// claimScript takes a detached connection for ARGV[4]: KEYS conns, p, b,
// pbytes; ARGV id, token hash, origin, claimer, stale ms, the attempt's
// nonce. Its state stays (claimedScript removes it) so that the same
// attempt resent after its reply was lost gets the same answer.
var claimScript = redis.NewScript(`
local owner = redis.call('HGET', KEYS[1], ARGV[1])
if not owner then return {'gone'} end
local again = owner == ARGV[4] and redis.call('HGET', KEYS[1], 'c:' .. ARGV[1]) == ARGV[6]
if string.sub(owner, 1, 1) ~= '-' and not again then return {'live'} end
local st = redis.call('HMGET', KEYS[2], 'token', 'origin', 'lost', 'deadline', 'out', 'in', 'protocol', 'bytes')
if not st[1] then return {'gone'} end
if st[3] == '1' then return {'lost'} end
if st[1] ~= ARGV[2] or st[2] ~= ARGV[3] then return {'token'} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if not again then
	if now >= tonumber(st[4]) then return {'gone'} end
	local n = tonumber(redis.call('HGET', KEYS[1], 'n:' .. ARGV[1]) or '0')
	local since = tonumber(redis.call('HGET', KEYS[1], 't:' .. ARGV[1]) or '0')
	if n > 0 and now - since < tonumber(ARGV[5]) then return {'busy'} end
	if redis.call('DECRBY', KEYS[4], st[8]) <= 0 then redis.call('DEL', KEYS[4]) end
	redis.call('HSET', KEYS[1], ARGV[1], ARGV[4], 'c:' .. ARGV[1], ARGV[6])
	redis.call('HDEL', KEYS[1], 'n:' .. ARGV[1], 't:' .. ARGV[1])
end
local entries = redis.call('LRANGE', KEYS[3], 0, -1)
local out = {'ok', st[5], st[6], st[7]}
for i = 1, #entries do out[4 + i] = entries[i] end
return out
`)

var errResumeBusy = &gateway.ResumeError{Code: gateway.CodeResumeRetry, Reason: "messages for the connection are still on their way: retry"}

func (k *redisKeeper) Claim(ctx context.Context, id, tokenHash, origin string) (*gateway.Parked, error) {
	if instanceOf(id) == "" {
		return nil, errResumeGone
	}
	nonce := strconv.FormatUint(rand.Uint64(), 36)
	res, err := claimScript.Run(ctx, k.rdb, k.connKeys(id), id, tokenHash, origin, k.self, ms(inflightStale), nonce).Slice()
	if err != nil {
		return nil, err
	}
	if str(res[0]) == "ok" {
		// taken: its state goes (else with its keys' TTL)
		if err := claimedScript.Run(ctx, k.rdb, k.connKeys(id), id, nonce).Err(); err != nil {
			k.s.logWarn("host: removing a resumed connection's kept state failed (it expires)", "secConnectionID", id, "err", err)
		}
	}
	what, _ := res[0].(string)
	switch what {
	case "ok":
	case "live":
		return nil, errResumeLive
	case "busy":
		return nil, errResumeBusy
	case "lost":
		return nil, errResumeLost
	case "token":
		return nil, errResumeToken
	default:
		return nil, errResumeGone
	}
	if len(res) < 4 {
		return nil, fmt.Errorf("the claim script answered %d values", len(res))
	}
	p := &gateway.Parked{ID: id, TokenHash: tokenHash, Origin: origin}
	p.Out, _ = strconv.ParseUint(str(res[1]), 10, 64)
	p.In, _ = strconv.ParseUint(str(res[2]), 10, 64)
	p.Protocol = str(res[3])
	for _, e := range res[4:] {
		b := str(e)
		if b == "" {
			continue
		}
		p.Buffer = append(p.Buffer, gateway.Buffered{Kind: b[0], Data: []byte(b[1:])})
	}
	k.held(id, 1)
	_ = k.rdb.ZRem(ctx, k.prefix+"parked", id).Err() // else the sweep finds it claimed
	return p, nil
}

// claimedScript removes the state a claim with nonce ARGV[2] took.
var claimedScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'c:' .. ARGV[1]) == ARGV[2] then
	redis.call('DEL', KEYS[2], KEYS[3])
	redis.call('HDEL', KEYS[1], 'c:' .. ARGV[1])
end
return 0
`)

func str(v any) string {
	s, _ := v.(string)
	return s
}

// expireScript ends a detached connection whose deadline passed: 1 (run
// its cleanup), its deadline when it is not yet due, 0 when it is not
// detached (resumed, or ended).
var expireScript = redis.NewScript(`
local st = redis.call('HMGET', KEYS[2], 'deadline', 'bytes')
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if st[1] and now < tonumber(st[1]) then return tonumber(st[1]) end
local owner = redis.call('HGET', KEYS[1], ARGV[1])
if not owner or string.sub(owner, 1, 1) ~= '-' then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1], 'n:' .. ARGV[1], 't:' .. ARGV[1])
redis.call('DEL', KEYS[2], KEYS[3])
if st[2] and redis.call('DECRBY', KEYS[4], st[2]) <= 0 then redis.call('DEL', KEYS[4]) end
return 1
`)

// sweep ends, on every instance, the detached connections whose window
// is over: the one whose ZREM removes one from the index runs its cleanup,
// once.
func (k *redisKeeper) sweep(ctx context.Context) {
	defer k.swept.Done()
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		k.sweepOnce(ctx)
	}
}

func (k *redisKeeper) sweepOnce(ctx context.Context) {
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	due, err := k.rdb.ZRangeByScore(ctx, k.prefix+"parked", &redis.ZRangeBy{Min: "-inf", Max: now, Count: 64}).Result()
	if err != nil {
		return
	}
	for _, id := range due {
		if n, err := k.rdb.ZRem(ctx, k.prefix+"parked", id).Result(); err != nil || n == 0 {
			continue // another instance took it
		}
		r, err := expireScript.Run(ctx, k.rdb, k.connKeys(id), id).Int64()
		switch {
		case err != nil:
			k.s.logWarn("host: ending a detached connection failed: its cleanup does not run", "secConnectionID", id, "err", err)
		case r == 1:
			k.cleanup(id)
		case r > 1: // parked again meanwhile: not due yet
			_ = k.rdb.ZAdd(ctx, k.prefix+"parked", redis.Z{Score: float64(r), Member: id}).Err()
		}
	}
}

// keepLua keeps messages for a detached connection (prefix is
// "<prefix>{<home>}:"). reserve counts one against the connection's
// bounds — its messages, its bytes, its home's parked bytes — and answers
// 1, or 0 when it is past them (the connection is then lost: it cannot be
// resumed, its list is freed) or not detached; commit appends a reserved
// message to the list; keep does both.
const keepLua = `
local function reserve(prefix, id, data, maxMsgs, maxBytes, maxParked, ttl)
	local p, b, pbk = prefix .. 'p:' .. id, prefix .. 'b:' .. id, prefix .. 'pbytes'
	local st = redis.call('HMGET', p, 'lost', 'n', 'bytes')
	if not st[2] or st[1] == '1' then return 0 end
	local n, bytes = tonumber(st[2]), tonumber(st[3])
	local pb = tonumber(redis.call('GET', pbk) or '0')
	if n + 1 > maxMsgs or bytes + #data > maxBytes or pb + #data > maxParked then
		redis.call('DEL', b)
		redis.call('HSET', p, 'lost', 1, 'bytes', 0)
		if redis.call('DECRBY', pbk, bytes) <= 0 then redis.call('DEL', pbk) end
		return 0
	end
	redis.call('HINCRBY', p, 'n', 1)
	redis.call('HINCRBY', p, 'bytes', #data)
	redis.call('INCRBY', pbk, #data)
	redis.call('PEXPIRE', pbk, ttl)
	return 1
end
local function commit(prefix, id, kind, data, ttl)
	local p, b = prefix .. 'p:' .. id, prefix .. 'b:' .. id
	local st = redis.call('HMGET', p, 'lost', 'n')
	if not st[2] or st[1] == '1' then return 0 end
	redis.call('RPUSH', b, string.char(kind) .. data)
	redis.call('PEXPIRE', b, ttl)
	redis.call('HINCRBY', p, 'out', 1)
	return 1
end
local function keep(prefix, id, kind, data, maxMsgs, maxBytes, maxParked, ttl)
	if reserve(prefix, id, data, maxMsgs, maxBytes, maxParked, ttl) == 0 then return 0 end
	return commit(prefix, id, kind, data, ttl)
end
`

// relPushScript routes a message to reliable connections of one home:
// KEYS the home's six bus keys (bus.go) and its conns; ARGV lease, max
// backlog, keep, the frame's head (up to its kind), the data, the kind,
// the sender, the home, the keys' prefix ("<prefix>{<home>}:"), max
// messages and bytes per connection, max parked bytes, ttl, an instance
// known gone ("" none), the head of a second frame (for the detached
// connections, its kind marked kindReserved), the call's mark (its sender
// and seq), then the IDs. Per ID: 1
// delivered (appended to the home's stream, or kept for the detached
// connection), 0 gone (or past its bounds), -1 or -2 as pushScript, or
// the instance whose stream the sender appends it to ("+" before it: a
// detached connection, the message reserved against its bounds).
var relPushScript = redis.NewScript(keepLua + `
local kind, data, home, goneInst = tonumber(ARGV[6]), ARGV[5], ARGV[8], ARGV[14]
local prefix, maxMsgs, maxBytes, maxParked, ttl = ARGV[9], tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12]), ARGV[13]
local first, mark = 17, 'r:' .. ARGV[16]
local out, live, held, resent = {}, {}, {}, {}
-- a call resent after its reply was lost (go-redis resends) finds its mark
-- on each detached connection it reached: nothing is counted or kept twice
local function firstTime(id)
	local p = prefix .. 'p:' .. id
	if redis.call('EXISTS', p) == 0 then return true end -- no state: nothing to keep twice
	return redis.call('HSETNX', p, mark, 1) == 1
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function onTheWay(id)
	redis.call('HINCRBY', KEYS[7], 'n:' .. id, 1)
	redis.call('HSET', KEYS[7], 't:' .. id, now)
end
local function unreserve(id)
	local p, pbk = prefix .. 'p:' .. id, prefix .. 'pbytes'
	if redis.call('HGET', p, 'lost') == '0' then
		redis.call('HINCRBY', p, 'n', -1)
		redis.call('HINCRBY', p, 'bytes', -#data)
		if redis.call('DECRBY', pbk, #data) <= 0 then redis.call('DEL', pbk) end
	end
end
for i = first, #ARGV do
	local j = i - first + 1
	local id = ARGV[i]
	local owner = redis.call('HGET', KEYS[7], id)
	local parker = nil
	if owner and string.sub(owner, 1, 1) == '-' then parker = string.sub(owner, 2) end
	local target = parker or owner
	if not owner then
		out[j] = 0
	elseif target == goneInst then
		if parker and not firstTime(id) then
			out[j] = 1
		elseif parker then
			out[j] = keep(prefix, id, kind, data, maxMsgs, maxBytes, maxParked, ttl)
		else -- it died with its instance
			redis.call('HDEL', KEYS[7], id, 'n:' .. id, 't:' .. id)
			out[j] = 0
		end
	elseif parker then
		local again = not firstTime(id)
		if not again and reserve(prefix, id, data, maxMsgs, maxBytes, maxParked, ttl) == 0 then
			out[j] = 0
		elseif target == home then
			held[#held + 1] = j
			resent[j] = again
		else
			if not again then onTheWay(id) end
			out[j] = '+' .. target
		end
	elseif target == home then
		if ARGV[7] ~= home then
			live[#live + 1] = j
		else
			out[j] = 0 -- the home pushed to it: it does not hold it
		end
	else
		onTheWay(id)
		out[j] = target
	end
end
if #live + #held == 0 then return out end
local r = 1
if redis.call('EXISTS', KEYS[1]) == 0 then
	r = -1
	if redis.call('EXISTS', KEYS[5]) == 1 then
		r = 0
	else
		local lease = tonumber(redis.call('GET', KEYS[6]) or ARGV[1])
		local seen = redis.call('GET', KEYS[4])
		if not seen then
			redis.call('SET', KEYS[4], now, 'PX', 3 * lease)
		elseif now - tonumber(seen) >= lease then
			r = 0
		end
	end
end
local function send(head, js)
	if #js == 0 or r ~= 1 then return end
	local parts = {head}
	local n = #js
	while n >= 128 do
		parts[#parts + 1] = string.char(n % 128 + 128)
		n = math.floor(n / 128)
	end
	parts[#parts + 1] = string.char(n)
	for _, j in ipairs(js) do
		local id = ARGV[first + j - 1]
		parts[#parts + 1] = string.char(#id) .. id
	end
	parts[#parts + 1] = data
	local frame = table.concat(parts)
	local backlog = redis.call('INCRBY', KEYS[3], #frame)
	if backlog > #frame and backlog > tonumber(ARGV[2]) then
		redis.call('DECRBY', KEYS[3], #frame)
		r = -2
		return
	end
	redis.call('XADD', KEYS[2], '*', 'f', frame)
	if backlog == #frame then
		redis.call('PEXPIRE', KEYS[2], ARGV[3])
		redis.call('PEXPIRE', KEYS[3], ARGV[3])
	end
	for _, j in ipairs(js) do
		if not resent[j] then onTheWay(ARGV[first + j - 1]) end -- a resent frame is dropped by its reader
	end
end
send(ARGV[15], held)
local rHeld = r
send(ARGV[4], live)
for _, j in ipairs(held) do
	local id = ARGV[first + j - 1]
	if rHeld == 1 or resent[j] then
		out[j] = 1
	elseif rHeld == 0 then -- its home, which parked it, is gone: kept directly
		out[j] = commit(prefix, id, kind, data, ttl)
	else
		unreserve(id)
		redis.call('HDEL', prefix .. 'p:' .. id, mark) -- not kept: a retry is a new push
		out[j] = rHeld
	end
end
for _, j in ipairs(live) do
	local id = ARGV[first + j - 1]
	if r == 0 then redis.call('HDEL', KEYS[7], id, 'n:' .. id, 't:' .. id) end -- it died with its home
	out[j] = r
end
return out
`)

// arriveScript takes a message that came on this instance's stream for a
// reliable connection it does not hold: kept for the connection when this
// instance parked it (ARGV[2]) — appended if it was reserved when sent
// (ARGV[10] "1"), else counted against its bounds first — and dropped
// otherwise; either way no longer on its way. KEYS[1] conns; ARGV id,
// this instance, kind, data, prefix, max messages, bytes, parked bytes,
// ttl, reserved.
var arriveScript = redis.NewScript(keepLua + `
local id = ARGV[1]
if redis.call('HINCRBY', KEYS[1], 'n:' .. id, -1) <= 0 then redis.call('HDEL', KEYS[1], 'n:' .. id, 't:' .. id) end
if redis.call('HGET', KEYS[1], id) ~= '-' .. ARGV[2] then return 0 end
if ARGV[10] == '1' then return commit(ARGV[5], id, tonumber(ARGV[3]), ARGV[4], ARGV[9]) end
return keep(ARGV[5], id, tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), ARGV[9])
`)

// readScript counts messages for reliable connections as read: KEYS[1]
// a home's conns, ARGV the IDs (once per message).
var readScript = redis.NewScript(`
for i = 1, #ARGV do
	local id = ARGV[i]
	if redis.call('HINCRBY', KEYS[1], 'n:' .. id, -1) <= 0 then redis.call('HDEL', KEYS[1], 'n:' .. id, 't:' .. id) end
end
return 0
`)

// arrival is a message read from this instance's stream for a reliable
// connection: given to it here (held), or not.
type arrival struct {
	id       string
	held     bool
	reserved bool // sent to it detached: counted against its bounds already
	m        gateway.Outgoing
	done     chan struct{} // a marker: closed once what came before is settled
}

// arrived settles what this instance read from its stream for reliable
// connections, in the order read: those it holds were given their message
// (no longer on their way); for the others it goes to their list when
// this instance parked them, and is dropped otherwise.
func (k *redisKeeper) arrived(ctx context.Context, as []arrival) {
	read := map[string][]any{}
	var cmds []*redis.Cmd
	eval := func(p redis.Pipeliner, sha bool) {
		for home, ids := range read {
			if sha {
				cmds = append(cmds, readScript.EvalSha(ctx, p, []string{k.hk(home, "conns")}, ids...))
			} else {
				cmds = append(cmds, readScript.Eval(ctx, p, []string{k.hk(home, "conns")}, ids...))
			}
		}
		for _, a := range as {
			if a.held {
				continue
			}
			home := instanceOf(a.id)
			reserved := "0"
			if a.reserved {
				reserved = "1"
			}
			args := []any{a.id, k.self, bufKind(a.m), a.m.Data, k.hk(home, ""), k.maxMsgs, k.maxBytes, k.maxParked, ms(k.ttl()), reserved}
			if sha {
				cmds = append(cmds, arriveScript.EvalSha(ctx, p, []string{k.hk(home, "conns")}, args...))
			} else {
				cmds = append(cmds, arriveScript.Eval(ctx, p, []string{k.hk(home, "conns")}, args...))
			}
		}
	}
	for _, a := range as {
		if a.held {
			read[instanceOf(a.id)] = append(read[instanceOf(a.id)], a.id)
		}
	}
	_, _ = k.rdb.Pipelined(ctx, func(p redis.Pipeliner) error { eval(p, true); return nil })
	for _, c := range cmds {
		if err := c.Err(); err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
			// a new or restarted Redis: none of them ran (each checks the same scripts)
			cmds = cmds[:0]
			_, _ = k.rdb.Pipelined(ctx, func(p redis.Pipeliner) error { eval(p, false); return nil })
			break
		}
	}
	for _, c := range cmds {
		if err := c.Err(); err != nil {
			k.s.logWarn("host: settling messages read for reliable connections failed", "err", err)
			break
		}
	}
}

// push delivers m to reliable connections this instance does not hold:
// one script call per home, then, for those another instance's stream
// takes, one frame per such instance.
func (k *redisKeeper) push(ctx context.Context, ids []string, m gateway.Outgoing, answer func(string, int, []byte, error)) {
	k.route(ctx, ids, m, "", answer)
}

func (k *redisKeeper) route(ctx context.Context, ids []string, m gateway.Outgoing, gone string,
	answer func(string, int, []byte, error)) {
	b := k.s.bus.Load()
	if b == nil {
		for _, id := range ids {
			answer(id, 0, nil, errNotOnBus)
		}
		return
	}
	homes := map[string][]string{}
	for _, id := range ids {
		homes[instanceOf(id)] = append(homes[instanceOf(id)], id)
	}
	kind := bufKind(m)
	type call struct {
		scriptCall
		ids []string
	}
	calls := make([]*call, 0, len(homes))
	for home, hids := range homes {
		to := b.to(home)
		// two frames at most (to the connections the home holds, and to those
		// it parked), each with a seq of its own; without the count of IDs,
		// which the script writes
		seq := to.seq.Add(2)
		head := appendFrame(nil, frame{sender: b.self, seq: seq - 1, kind: kind})
		headReserved := appendFrame(nil, frame{sender: b.self, seq: seq, kind: kind | kindReserved})
		args := []any{ms(b.lease), b.maxBacklog, ms(b.keep), head[:len(head)-1], m.Data, kind, k.self, home, k.hk(home, ""),
			k.maxMsgs, k.maxBytes, k.maxParked, ms(k.ttl()), gone, headReserved[:len(headReserved)-1],
			b.self + ":" + strconv.FormatUint(seq, 10)}
		for _, id := range hids {
			args = append(args, id)
		}
		calls = append(calls, &call{ids: hids, scriptCall: scriptCall{keys: append(to.keys[:6:6], k.hk(home, "conns")), args: args}})
	}
	sc := make([]*scriptCall, len(calls))
	for i, c := range calls {
		sc[i] = &c.scriptCall
	}
	runScripts(ctx, k.rdb, relPushScript, sc)
	type target struct {
		inst     string
		reserved bool // to a connection the instance parked: reserved against its bounds
	}
	moved := map[target][]string{}
	for _, c := range calls {
		res, err := c.cmd.Slice()
		if err == nil && len(res) != len(c.ids) {
			err = fmt.Errorf("the push script answered %d results for %d connections", len(res), len(c.ids))
		}
		for i, id := range c.ids {
			if err != nil {
				answer(id, 0, nil, fmt.Errorf("host: pushing over Redis: %w", err))
				continue
			}
			switch r := res[i].(type) {
			case string:
				inst, reserved := strings.CutPrefix(r, "+")
				moved[target{inst, reserved}] = append(moved[target{inst, reserved}], id)
			case int64:
				answerBus(id, busResult(r), nil, answer)
			}
		}
	}
	for to, mids := range moved {
		kind := kindOf(m)
		if to.reserved {
			kind |= kindReserved
		}
		b.send(ctx, map[string][]string{to.inst: mids}, kind, m.Data, func(ids []string, r busResult, err error) {
			if err == nil && r == busGone && gone == "" {
				// the instance that held it left or died: where it is now
				// (what was reserved is the gone instance's to lose)
				k.route(ctx, ids, m, to.inst, answer)
				return
			}
			for _, id := range ids {
				answerBus(id, r, err, answer)
			}
		})
	}
}
