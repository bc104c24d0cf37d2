package host

import (
	"encoding/binary"
	"errors"
	"time"
)

// A frame is what crosses Redis for one push or one fan-out to one
// instance: the message's raw bytes once, whatever the number of its
// connections, never JSON-escaped:
//
//	version  1 byte (frameVersion)
//	sender   8 bytes: the publishing instance's ID
//	seq      uvarint: the sender's count of frames to this destination
//	kind     1 byte: kindText, kindBinary, kindClosing
//	ids      uvarint count, then each as uvarint length + bytes
//	data     the rest: the message as the client receives it
//
// (sender, seq) names the frame, so that one a Redis client resent after a
// lost reply is delivered once (see dedupe).
const frameVersion = 1

const (
	kindText byte = iota
	kindBinary
	kindClosing
)

// kindReserved marks the kind of a frame to reliable connections that are
// detached, whose message was counted against their bounds when sent
// (resume_redis.go).
const kindReserved byte = 0x80

// frame is a decoded frame; data aliases the encoded bytes.
type frame struct {
	sender string
	seq    uint64
	kind   byte
	ids    []string
	data   []byte
}

// maxFrameIDs bounds the IDs of one frame (a fan-out to more connections of
// one instance is sent as several frames), so a frame's overhead stays far
// below Redis's limits whatever the room's size.
const maxFrameIDs = 4096

// appendFrame appends the encoded frame to dst.
func appendFrame(dst []byte, f frame) []byte {
	dst = append(dst, frameVersion)
	dst = append(dst, f.sender...)
	dst = binary.AppendUvarint(dst, f.seq)
	dst = append(dst, f.kind)
	dst = binary.AppendUvarint(dst, uint64(len(f.ids)))
	for _, id := range f.ids {
		dst = binary.AppendUvarint(dst, uint64(len(id)))
		dst = append(dst, id...)
	}
	return append(dst, f.data...)
}

// frameSize is appendFrame's output length, at most.
func frameSize(f frame) int {
	n := 1 + len(f.sender) + 2*binary.MaxVarintLen64 + 1 + len(f.data)
	for _, id := range f.ids {
		n += binary.MaxVarintLen64 + len(id)
	}
	return n
}

var errBadFrame = errors.New("malformed bus frame")

// parseFrame decodes b; any byte string gets a frame or errBadFrame, in
// time linear in len(b), never a panic.
func parseFrame(b []byte) (frame, error) {
	var f frame
	if len(b) < 1+instanceLen || b[0] != frameVersion {
		return f, errBadFrame
	}
	f.sender, b = string(b[1:1+instanceLen]), b[1+instanceLen:]
	var n int
	if f.seq, n = binary.Uvarint(b); n <= 0 || len(b) == n {
		return f, errBadFrame
	}
	f.kind, b = b[n], b[n+1:]
	if f.kind&^kindReserved > kindClosing {
		return f, errBadFrame
	}
	count, n := binary.Uvarint(b)
	if n <= 0 || count > maxFrameIDs || count > uint64(len(b)) {
		return f, errBadFrame
	}
	b = b[n:]
	f.ids = make([]string, 0, count)
	for range count {
		l, n := binary.Uvarint(b)
		if n <= 0 || l == 0 || l > uint64(len(b)-n) {
			return f, errBadFrame
		}
		f.ids = append(f.ids, string(b[n:n+int(l)]))
		b = b[n+int(l):]
	}
	f.data = b
	return f, nil
}

// dedupe drops the frames a receiver has already delivered: a Redis client
// that lost the reply to a command after Redis ran it resends it (go-redis
// does by default), and the bus must stay at most once whatever the app's
// client options. A frame is known by its sender and the sender's count
// of frames to this instance; for each sender the last dedupeWindow counts
// are remembered (8 KB). A frame further behind its sender's newest than
// that is dropped as well — never delivered twice — and counted in
// tooOld: it would need 65,536 later frames of one sender to this
// instance to overtake it, while a push waits at most its timeout.
// Used by the bus's reading goroutine only.
type dedupe struct {
	senders map[string]*window
	tooOld  uint64
}

const dedupeWindow = 1 << 16

type window struct {
	high uint64 // the newest seq seen
	bits [dedupeWindow / 64]uint64
	seen time.Time
}

// fresh reports whether the frame (sender, seq) was not seen before, and
// records it.
func (d *dedupe) fresh(sender string, seq uint64, now time.Time) bool {
	w := d.senders[sender]
	if w == nil {
		if d.senders == nil {
			d.senders = map[string]*window{}
		}
		w = &window{high: seq}
		d.senders[sender] = w
		w.set(seq)
		w.seen = now
		return true
	}
	w.seen = now
	switch {
	case seq > w.high:
		if seq-w.high >= dedupeWindow {
			w.bits = [dedupeWindow / 64]uint64{}
		} else {
			for s := w.high + 1; s < seq; s++ {
				w.bits[(s%dedupeWindow)/64] &^= 1 << (s % 64)
			}
		}
		w.high = seq
	case w.high-seq >= dedupeWindow:
		d.tooOld++
		return false
	case w.has(seq):
		return false
	}
	w.set(seq)
	return true
}

func (w *window) set(seq uint64) { w.bits[(seq%dedupeWindow)/64] |= 1 << (seq % 64) }
func (w *window) has(seq uint64) bool {
	return w.bits[(seq%dedupeWindow)/64]&(1<<(seq%64)) != 0
}

// forget drops the windows of senders silent since before cutoff.
func (d *dedupe) forget(cutoff time.Time) {
	for s, w := range d.senders {
		if w.seen.Before(cutoff) {
			delete(d.senders, s)
		}
	}
}
