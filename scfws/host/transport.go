package host

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/scfws/scfws-go/internal/wire"
)

// transport is the RoundTripper of [Server.Client]: the push endpoint of
// the gateway core, called in-process. scfws.PushClient skips the HTTP
// request and calls DeliverPush (internal/inproc); any other HTTP client
// goes through RoundTrip, with the same answers.
type transport struct{ s *Server }

// DeliverPush delivers a push to connectionIDs, as scfws.PushClient hands
// it: a Send or Disconnect is one ID, a Broadcast (and so every hub
// fan-out) many.
func (t transport) DeliverPush(ctx context.Context, url string, ids []string, closing bool, dataType, data string,
	answer func(id string, status int, body []byte, err error)) {
	if url != pushURL {
		err := fmt.Errorf("host: this client only pushes to %s, not %s", pushURL, url)
		for _, id := range ids {
			answer(id, 0, nil, err)
		}
		return
	}
	p := wire.Push{Action: wire.ActionDataSend, DataType: dataType, Data: data}
	if closing {
		p = wire.Push{Action: wire.ActionClosing}
	}
	m, a := t.s.g.Message(p)
	if a.ErrNo != 0 {
		for _, id := range ids {
			answer(id, a.Status, a.Body(), nil)
		}
		return
	}
	t.s.push(ctx, ids, m, answer)
}

func (t transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		defer req.Body.Close()
	}
	if req.URL.String() != pushURL || req.Method != http.MethodPost {
		return nil, fmt.Errorf("host: this client only pushes (POST %s), not %s %s", pushURL, req.Method, req.URL)
	}
	body := req.Body
	if body == nil {
		body = http.NoBody
	}
	var (
		status int
		answer []byte
		err    error
	)
	if p, a := t.s.g.ReadPush(body); a.ErrNo != 0 {
		status, answer = a.Status, a.Body()
	} else {
		t.DeliverPush(req.Context(), pushURL, []string{p.ConnectionID}, p.Action == wire.ActionClosing, p.DataType, p.Data,
			func(_ string, s int, b []byte, e error) { status, answer, err = s, b, e })
	}
	if err != nil {
		return nil, err
	}
	return &http.Response{
		Status: strconv.Itoa(status) + " " + http.StatusText(status), StatusCode: status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(answer)),
		ContentLength: int64(len(answer)), Request: req,
	}, nil
}
