package scfws_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/http2"

	"github.com/scfws/scfws-go/scfws"
)

// TestPushNeverResent: a gateway that reads each push and then resets the
// stream (HTTP/2 PROTOCOL_ERROR, which Go's HTTP/2 client retries when it
// can rewind the body) or drops the connection (HTTP/1.1) gets the push
// once, and the caller an answer-less error.
func TestPushNeverResent(t *testing.T) {
	ts := httptest.NewUnstartedServer(http.NotFoundHandler())
	ts.EnableHTTP2 = true
	ts.StartTLS()
	defer ts.Close()

	t.Run("HTTP/2", func(t *testing.T) {
		var streams atomic.Int64
		ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: ts.TLS.Certificates, NextProtos: []string{"h2"}})
		require.NoError(t, err)
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go resetEveryStream(c, &streams)
			}
		}()
		c, err := scfws.NewPushClient("https://"+ln.Addr().String()+"/push", &scfws.PushOptions{HTTPClient: ts.Client(), Timeout: 3 * time.Second})
		require.NoError(t, err)
		err = c.Send(context.Background(), "id", scfws.Text("once"))
		require.ErrorIs(t, err, scfws.ErrPushUnavailable)
		time.Sleep(100 * time.Millisecond)
		assert.Equal(t, int64(1), streams.Load(), "sent once")
	})
	t.Run("HTTP/1.1", func(t *testing.T) {
		var requests atomic.Int64
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			requests.Add(1)
			_, _ = io.Copy(io.Discard, r.Body)
			panic(http.ErrAbortHandler)
		}))
		defer srv.Close()
		c, err := scfws.NewPushClient(srv.URL, &scfws.PushOptions{HTTPClient: srv.Client(), Timeout: 3 * time.Second})
		require.NoError(t, err)
		err = c.Send(context.Background(), "id", scfws.Text("once"))
		require.ErrorIs(t, err, scfws.ErrPushUnavailable)
		assert.Equal(t, int64(1), requests.Load(), "sent once")
	})
}

// resetEveryStream is a minimal HTTP/2 server: it reads each request whole,
// then resets its stream with PROTOCOL_ERROR.
func resetEveryStream(c net.Conn, streams *atomic.Int64) {
	defer c.Close()
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(c, preface); err != nil {
		return
	}
	fr := http2.NewFramer(c, c)
	if fr.WriteSettings() != nil {
		return
	}
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = fr.WriteSettingsAck()
			}
		case *http2.PingFrame:
			_ = fr.WritePing(true, f.Data)
		case *http2.HeadersFrame:
			streams.Add(1)
			if f.StreamEnded() {
				_ = fr.WriteRSTStream(f.StreamID, http2.ErrCodeProtocol)
			}
		case *http2.DataFrame:
			if f.StreamEnded() {
				_ = fr.WriteRSTStream(f.StreamID, http2.ErrCodeProtocol)
			}
		}
	}
}
