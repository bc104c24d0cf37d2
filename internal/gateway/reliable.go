package gateway

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// The reliable mode (package host only): a client that offers the
// subprotocol ReliableProtocol gets a logical connection that outlives its
// socket. The wire, both ways (docs/protocol.md, "Reliable mode"):
//
//   - a data message carries its sequence number: a text frame
//     "<seq>:<text>", a binary frame of the seq (8 bytes, big-endian) and
//     the data; seqs count from 1 per logical connection and direction;
//   - a control message is a text frame holding a JSON object:
//     {"type":"welcome","id","token","window","protocol"} first on a new
//     connection, {"type":"resumed","id","token","in"} first on a resumed
//     one, {"type":"ack","seq"} (the client: received through seq; the
//     server: handled through seq), {"type":"end","reason"} before the
//     server ends the logical connection.
//
// A client resumes by opening a socket with the subprotocol and the query
// scfws_resume=<token>&scfws_ack=<the last seq it received>.
const ReliableProtocol = "scfws.reliable.v1"

// Close codes of a refused resume (a browser cannot read a handshake's
// HTTP status, so the socket is accepted and closed with one of them).
const (
	// CodeResumeGone: the logical connection cannot be resumed (its window
	// is over, its buffer went past its bound, its state was lost, or it
	// never existed); its cleanup runs (or ran) once. Open a new one.
	CodeResumeGone websocket.StatusCode = 4000
	// CodeResumeToken: the token is not the connection's current one (a
	// replayed, forged or stolen token). Open a new connection.
	CodeResumeToken websocket.StatusCode = 4001
	// CodeResumeRetry: the connection is still attached to a socket (one
	// the server has not yet found dead); retry with backoff.
	CodeResumeRetry websocket.StatusCode = 4002
)

// Reliable is what keeps the logical connections of the reliable mode
// between sockets: package host's, in memory or on Redis.
type Reliable interface {
	// Window is how long a detached connection can be resumed.
	Window() time.Duration
	// Attach records a new reliable connection as held by this server;
	// an error refuses it (503), its cleanup running.
	Attach(ctx context.Context, id string) error
	// Park keeps a connection whose socket ended for Window; an error
	// ends it (its cleanup runs).
	Park(ctx context.Context, p *Parked) error
	// Claim takes a parked connection for a resume here: a *ResumeError
	// when it cannot.
	Claim(ctx context.Context, id, tokenHash, origin string) (*Parked, error)
	// Ended tells that the logical connection ended here (its cleanup ran).
	Ended(id string)
}

// Parked is a detached connection's state: the messages it was sent and
// has not acknowledged (seqs Out-len(Buffer)+1 .. Out), with what came
// for it while detached appended.
type Parked struct {
	ID        string
	TokenHash string // hex SHA-256 of the token's secret
	Protocol  string // the subprotocol the register function chose
	Origin    string // the Origin of the opening handshake
	Out, In   uint64 // the last seq sent; the last client seq handled
	Buffer    []Buffered
}

// Buffered is one message kept for a detached connection.
type Buffered struct {
	Kind byte // BufText, BufBinary, BufClosing
	Data []byte
}

// The kinds of Buffered.
const (
	BufText byte = iota
	BufBinary
	BufClosing
)

// ResumeError is why a resume is refused, and the close code it gets.
type ResumeError struct {
	Code   websocket.StatusCode
	Reason string
}

func (e *ResumeError) Error() string { return e.Reason }

// seqLimit is the most a seq prefix adds to a client's message.
const seqLimit = 21

// relMsg is a message sent and not yet acknowledged.
type relMsg struct {
	seq  uint64
	typ  websocket.MessageType
	data []byte
	kind byte
}

// relState is a reliable connection's state; guarded by conn.mu.
type relState struct {
	out, acked, in uint64
	unacked        []relMsg
	unackedBytes   int64
	pre            []outgoing // queued while resuming, before seqs are known
	secret         string
	protocol       string
	origin         string
	phase          int           // relAttached, relResuming, relClaimed, relParking, relParked
	parked         chan struct{} // closed once phase leaves relParking (or a resume is refused)
	decided        chan struct{} // closed once a resume's claim is decided
}

// The phases of a reliable connection: attached to its socket; resuming
// (before its claim: a message for it waits for the claim, as it may
// belong to the connection where it is kept); claimed (resumed here:
// messages wait in pre until what it missed is queued); parking (its
// socket ended); parked (kept elsewhere: messages go there).
const (
	relAttached = iota
	relResuming
	relClaimed
	relParking
	relParked
)

var (
	errParked       = errors.New("connection detached")
	errResuming     = errors.New("connection resuming")
	errResumeBuffer = errors.New("resume buffer full")
)

func newSecret() string {
	var b [18]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// HashSecret is what Reliable keeps of a token's secret.
func HashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// token is the resume token the client gets: the connection's ID and a
// secret that changes at every attach.
func token(id, secret string) string { return id + "." + secret }

// splitToken parses a token; ok is false for a malformed one.
func splitToken(t string) (id, secret string, ok bool) {
	i := strings.LastIndexByte(t, '.')
	if i <= 0 || len(t)-i-1 < 16 || len(t) > 256 {
		return "", "", false
	}
	return t[:i], t[i+1:], true
}

// offersReliable reports whether the handshake offers ReliableProtocol.
func offersReliable(r *http.Request) bool {
	return headerHasToken(r.Header, "Sec-WebSocket-Protocol", ReliableProtocol)
}

// withoutReliable is a Sec-WebSocket-Protocol value without
// ReliableProtocol: what the register function sees.
func withoutReliable(offer string) string {
	var keep []string
	for p := range strings.SplitSeq(offer, ",") {
		if p = strings.TrimSpace(p); p != "" && p != ReliableProtocol {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, ", ")
}

func (s *Server) reliable(r *http.Request) bool { return s.opts.Reliable != nil && offersReliable(r) }

// control encodes a control message.
func control(v map[string]any) outgoing {
	b, _ := json.Marshal(v)
	return outgoing{typ: websocket.MessageText, data: b, ctl: true}
}

// seqPrefix appends to dst what goes before a data message's bytes on
// the wire: the seq in 8 bytes, or in decimal and a colon.
func seqPrefix(dst []byte, typ websocket.MessageType, seq uint64) []byte {
	if typ == websocket.MessageBinary {
		return binary.BigEndian.AppendUint64(dst, seq)
	}
	return append(strconv.AppendUint(dst, seq, 10), ':')
}

// relSend numbers a data message of an attached reliable connection and
// keeps it until acknowledged; called with c.mu held. errResumeBuffer:
// the client acknowledges too slowly (it is ended).
func (c *conn) relSend(m outgoing) (outgoing, error) {
	r := c.rel
	o := &c.s.opts
	if (o.MaxResumeMessages > 0 && len(r.unacked) >= o.MaxResumeMessages) ||
		(o.MaxResumeBytes > 0 && len(r.unacked) > 0 && r.unackedBytes+int64(len(m.data)) > o.MaxResumeBytes) {
		return outgoing{}, errResumeBuffer
	}
	return r.number(m), nil
}

// number gives a data message the next seq and keeps it until
// acknowledged.
func (r *relState) number(m outgoing) outgoing {
	r.out++
	kind := BufText
	if m.typ == websocket.MessageBinary {
		kind = BufBinary
	}
	r.unacked = append(r.unacked, relMsg{seq: r.out, typ: m.typ, data: m.data, kind: kind})
	r.unackedBytes += int64(len(m.data))
	m.seq = r.out
	return m
}

// ack drops what the client acknowledged; false for an ack past what was
// sent.
func (c *conn) ack(seq uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.rel
	if seq > r.out {
		return false
	}
	n := 0
	for n < len(r.unacked) && r.unacked[n].seq <= seq {
		r.unackedBytes -= int64(len(r.unacked[n].data))
		r.unacked[n] = relMsg{}
		n++
	}
	r.unacked = r.unacked[n:]
	r.acked = max(r.acked, seq)
	return true
}

// relRead handles a client's frame in reliable mode: an acknowledgement
// (handled; deliver false), or a data message to deliver (its seq, and
// its bytes without the prefix); a duplicate of one handled is
// acknowledged again and not delivered. An error is a malformed frame.
func (c *conn) relRead(typ websocket.MessageType, data []byte) (seq uint64, body []byte, deliver bool, err error) {
	if typ == websocket.MessageText && len(data) > 0 && data[0] == '{' {
		var m struct {
			Type string  `json:"type"`
			Seq  *uint64 `json:"seq"`
		}
		if json.Unmarshal(data, &m) != nil || m.Type != "ack" || m.Seq == nil {
			return 0, nil, false, errors.New("malformed control message")
		}
		if !c.ack(*m.Seq) {
			return 0, nil, false, errors.New("acknowledged a message never sent")
		}
		return 0, nil, false, nil
	}
	if typ == websocket.MessageBinary {
		if len(data) < 8 {
			return 0, nil, false, errors.New("binary message without its seq")
		}
		seq, body = binary.BigEndian.Uint64(data), data[8:]
	} else {
		i := bytes.IndexByte(data[:min(len(data), seqLimit)], ':')
		if i <= 0 {
			return 0, nil, false, errors.New("text message without its seq")
		}
		if seq, err = strconv.ParseUint(string(data[:i]), 10, 64); err != nil {
			return 0, nil, false, errors.New("text message without its seq")
		}
		body = data[i+1:]
	}
	c.mu.Lock()
	in := c.rel.in
	c.mu.Unlock()
	if seq == 0 || seq > in+1 {
		return 0, nil, false, errors.New("message seq out of order")
	}
	if seq <= in {
		_ = c.send(control(map[string]any{"type": "ack", "seq": in}))
		return seq, nil, false, nil
	}
	return seq, body, true, nil
}

// handled records that the client's message seq was handled, and
// acknowledges it.
func (c *conn) handled(seq uint64) {
	c.mu.Lock()
	c.rel.in = seq
	c.mu.Unlock()
	_ = c.send(control(map[string]any{"type": "ack", "seq": seq}))
}

// snapshot starts parking: from now on pushes wait for the park to finish
// and then go where the connection is kept.
func (c *conn) snapshot() *Parked {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.rel
	r.phase = relParking
	if c.terminal.Load() { // ended meanwhile (past its bound): nothing to keep
		return nil
	}
	p := &Parked{ID: c.id, TokenHash: HashSecret(r.secret), Protocol: r.protocol, Origin: r.origin,
		Out: r.out, In: r.in, Buffer: make([]Buffered, 0, len(r.unacked))}
	for _, m := range r.unacked {
		p.Buffer = append(p.Buffer, Buffered{Kind: m.kind, Data: m.data})
	}
	return p
}

// parkDone ends parking; pushes that waited go on.
func (c *conn) parkDone() {
	c.mu.Lock()
	c.rel.phase = relParked
	c.mu.Unlock()
	close(c.rel.parked)
}

// waitParked waits until a parking connection is parked (or ctx ends).
func (c *conn) waitParked(ctx context.Context) {
	select {
	case <-c.rel.parked:
	case <-ctx.Done():
	}
}

// park keeps a reliable connection whose socket ended, instead of its
// cleanup; false when it could not (then it ends: cleanup runs).
func (s *Server) park(c *conn) bool {
	p := c.snapshot()
	if p == nil {
		c.parkDone()
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), parkTimeout)
	err := s.opts.Reliable.Park(ctx, p)
	cancel()
	c.parkDone()
	if err != nil {
		s.log.Warn(s.opts.LogPrefix+": could not keep a reliable connection for resume: it ends", "secConnectionID", c.id, "err", err)
		return false
	}
	s.log.Info(s.opts.LogPrefix+": detached: kept for resume", "secConnectionID", c.id, "unacked", len(p.Buffer),
		"window", s.opts.Reliable.Window())
	return true
}

// parkTimeout bounds parking a connection on its store.
const parkTimeout = 5 * time.Second

// startReliable makes c reliable, new (p nil) or resumed from p, and
// returns the messages to queue first: the welcome, or the resumed
// message and what the client has not received (after ack).
func (c *conn) startReliable(p *Parked, protocol, origin string, ack uint64) []outgoing {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.rel
	r.secret = newSecret()
	win := c.s.opts.Reliable.Window()
	if p == nil {
		r.protocol, r.origin, r.phase = protocol, origin, relAttached
		return []outgoing{control(map[string]any{"type": "welcome", "id": c.id, "token": token(c.id, r.secret),
			"window": int64(win / time.Second), "protocol": protocol})}
	}
	r.protocol, r.origin, r.in, r.out = p.Protocol, p.Origin, p.In, p.Out
	first := p.Out - uint64(len(p.Buffer)) + 1
	out := []outgoing{control(map[string]any{"type": "resumed", "id": c.id, "token": token(c.id, r.secret),
		"in": p.In, "window": int64(win / time.Second), "protocol": p.Protocol})}
	for i, b := range p.Buffer {
		seq := first + uint64(i)
		if b.Kind == BufClosing {
			out = append(out, outgoing{code: websocket.StatusNormalClosure, reason: "closed by the server"})
			break
		}
		typ := websocket.MessageText
		if b.Kind == BufBinary {
			typ = websocket.MessageBinary
		}
		if seq <= ack {
			continue
		}
		r.unacked = append(r.unacked, relMsg{seq: seq, typ: typ, data: b.Data, kind: b.Kind})
		r.unackedBytes += int64(len(b.Data))
		out = append(out, outgoing{typ: typ, data: b.Data, seq: seq, replay: true})
	}
	r.acked = min(ack, p.Out)
	return out
}

// attachResumed queues, after what a resumed connection missed, what came
// for it meanwhile, numbered, and attaches it.
func (c *conn) attachResumed() {
	for {
		c.mu.Lock()
		r := c.rel
		pre := r.pre
		r.pre = nil
		if len(pre) == 0 {
			r.phase = relAttached
			c.mu.Unlock()
			return
		}
		var out []outgoing
		closing := false
		for _, m := range pre {
			if m.code != 0 {
				closing = true
				break
			}
			out = append(out, r.number(m))
		}
		c.mu.Unlock()
		for _, m := range out {
			_ = c.send(m)
		}
		if closing {
			c.mu.Lock()
			r.phase = relAttached
			c.mu.Unlock()
			c.close(websocket.StatusNormalClosure, "closed by the server")
			return
		}
	}
}

// serveResume resumes a reliable connection on this server: no register
// function runs; the connection keeps its ID, and gets what it missed.
func (s *Server) serveResume(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	start := time.Now()
	id, secret, ok := splitToken(q.Get("scfws_resume"))
	ack, err := strconv.ParseUint(q.Get("scfws_ack"), 10, 64)
	if q.Get("scfws_ack") == "" {
		ack, err = 0, nil
	}
	var refusal *ResumeError
	if !ok || err != nil {
		refusal = &ResumeError{CodeResumeToken, "malformed resume token or ack"}
	}
	if check := s.opts.ResumeCheck; refusal == nil && check != nil {
		if err := check(r, id); err != nil {
			refusal = &ResumeError{CodeResumeToken, "resume refused: " + err.Error()}
		}
	}
	if refusal == nil && !s.reserve() {
		refuse(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
		return
	}
	var c *conn
	var p *Parked
	if refusal == nil {
		c = newConn(s, id)
		c.rel = &relState{phase: relResuming, parked: make(chan struct{}), decided: make(chan struct{})}
		if !s.addResuming(c) {
			refusal = &ResumeError{CodeResumeRetry, "connection still attached here: retry"}
		} else {
			ctx, cancel := context.WithTimeout(context.Background(), parkTimeout)
			p, err = s.opts.Reliable.Claim(ctx, id, HashSecret(secret), r.Header.Get("Origin"))
			cancel()
			if err != nil {
				var re *ResumeError
				if !errors.As(err, &re) {
					re = &ResumeError{CodeResumeRetry, "resume failed: " + err.Error() + ": retry"}
				}
				refusal = re
				s.abandon(c)
			} else {
				c.mu.Lock()
				c.rel.phase = relClaimed
				c.mu.Unlock()
			}
			close(c.rel.decided)
		}
	}
	opts := &websocket.AcceptOptions{InsecureSkipVerify: true, CompressionMode: websocket.CompressionDisabled,
		Subprotocols: []string{ReliableProtocol}}
	if refusal != nil {
		s.log.Warn(s.opts.LogPrefix+": resume refused", "secConnectionID", id, "code", int(refusal.Code), "reason", refusal.Reason)
		if ws, err := websocket.Accept(w, r, opts); err == nil {
			_ = ws.Close(refusal.Code, refusal.Reason)
		}
		return
	}
	first := c.startReliable(p, "", "", ack)
	if _, ok := s.upgrade(w, r, c, opts, first); !ok {
		return
	}
	c.attachResumed()
	s.log.Info(s.opts.LogPrefix+": resumed", "secConnectionID", id, "replayed", len(first)-1, "latency", time.Since(start))
	go c.serve()
}
