package host

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFrameRoundTrip(t *testing.T) {
	for name, f := range map[string]frame{
		"text":     {sender: "AbCdEfGh", seq: 1, kind: kindText, ids: []string{"AbCdEfGh0123456789abcdef"}, data: []byte("<b>hi</b> & bye")},
		"binary":   {sender: "AbCd+/Gh", seq: 1 << 40, kind: kindBinary, ids: []string{"x", "yy"}, data: []byte{0, 1, 255}},
		"closing":  {sender: "AbCdEfGh", seq: 7, kind: kindClosing, ids: []string{"one"}},
		"no ids":   {sender: "AbCdEfGh", seq: 2, kind: kindText, data: []byte("x")},
		"empty":    {sender: "AbCdEfGh", seq: 3, kind: kindText, ids: []string{"a"}},
		"many ids": {sender: "AbCdEfGh", seq: 4, kind: kindText, ids: make4096()},
	} {
		t.Run(name, func(t *testing.T) {
			enc := appendFrame(nil, f)
			assert.LessOrEqual(t, len(enc), frameSize(f))
			got, err := parseFrame(enc)
			require.NoError(t, err)
			assert.Equal(t, f.sender, got.sender)
			assert.Equal(t, f.seq, got.seq)
			assert.Equal(t, f.kind, got.kind)
			assert.Equal(t, len(f.ids), len(got.ids))
			assert.Equal(t, f.ids, append([]string(nil), got.ids...)[:len(f.ids):len(f.ids)])
			assert.Equal(t, string(f.data), string(got.data))
		})
	}
}

func make4096() []string {
	ids := make([]string, maxFrameIDs)
	for i := range ids {
		ids[i] = "AbCdEfGh0123456789abcdef"
	}
	return ids
}

// TestFrameHostile: what is not a frame is refused, never a panic.
func TestFrameHostile(t *testing.T) {
	good := appendFrame(nil, frame{sender: "AbCdEfGh", seq: 9, kind: kindText, ids: []string{"id1", "id2"}, data: []byte("x")})
	for name, b := range map[string][]byte{
		"empty":           nil,
		"other version":   append([]byte{2}, good[1:]...),
		"short sender":    good[:5],
		"no seq":          good[:9],
		"bad kind":        append(append([]byte{}, good[:10]...), 9, 0),
		"ids beyond end":  append(append([]byte{}, good[:11]...), 200),
		"id beyond end":   append(append([]byte{}, good[:12]...), 100, 'a'),
		"too many ids":    append(append([]byte{}, good[:11]...), 0xff, 0xff, 0xff, 0x7f),
		"zero-length id":  append(append([]byte{}, good[:11]...), 1, 0),
		"truncated ids":   good[:14],
		"only the header": good[:11],
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseFrame(b)
			require.ErrorIs(t, err, errBadFrame)
		})
	}
}

func FuzzParseFrame(f *testing.F) {
	f.Add(appendFrame(nil, frame{sender: "AbCdEfGh", seq: 9, kind: kindText, ids: []string{"id1", "id2"}, data: []byte("x")}))
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := parseFrame(b)
		if err != nil {
			return
		}
		again, err := parseFrame(appendFrame(nil, fr))
		require.NoError(t, err)
		assert.Equal(t, fr.ids, again.ids)
	})
}

// TestDedupe: a frame is fresh once; copies within the window are not,
// out-of-order frames are, and frames further behind than the window are
// dropped (counted), never delivered twice.
func TestDedupe(t *testing.T) {
	var d dedupe
	now := time.Now()
	assert.True(t, d.fresh("A", 5, now))
	assert.False(t, d.fresh("A", 5, now), "a resent frame")
	assert.True(t, d.fresh("A", 3, now), "an earlier one, late")
	assert.False(t, d.fresh("A", 3, now))
	assert.True(t, d.fresh("B", 5, now), "senders apart")
	assert.True(t, d.fresh("A", 6, now))
	assert.True(t, d.fresh("A", 4, now))
	assert.False(t, d.fresh("A", 4, now))
	assert.True(t, d.fresh("A", 6+dedupeWindow, now), "a jump past the window")
	assert.False(t, d.fresh("A", 6, now), "behind the window: dropped")
	assert.Equal(t, uint64(1), d.tooOld)
	assert.True(t, d.fresh("A", 7+dedupeWindow, now))
	assert.True(t, d.fresh("A", 10+dedupeWindow, now))
	assert.True(t, d.fresh("A", 9+dedupeWindow, now), "a gap's bits were cleared")
	assert.True(t, d.fresh("A", 8+dedupeWindow, now))
	// a slot reused after the window moved on is fresh again
	for s := uint64(11 + dedupeWindow); s < 11+2*dedupeWindow; s++ {
		require.True(t, d.fresh("A", s, now))
	}
	d.forget(now.Add(time.Second))
	assert.Empty(t, d.senders)
}
