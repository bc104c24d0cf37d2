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

// DeliverPush delivers a push to this host, as scfws.PushClient hands it.
func (t transport) DeliverPush(ctx context.Context, url, id string, closing bool, dataType, data string) (int, []byte, error) {
	if url != pushURL {
		return 0, nil, fmt.Errorf("host: this client only pushes to %s, not %s", pushURL, url)
	}
	p := wire.Push{Action: wire.ActionDataSend, ConnectionID: id, DataType: dataType, Data: data}
	if closing {
		p = wire.Push{Action: wire.ActionClosing, ConnectionID: id}
	}
	a, err := t.s.g.Deliver(ctx, p, nil, true)
	if err != nil {
		return 0, nil, fmt.Errorf("host: publishing the push on Redis: %w", err)
	}
	return a.Status, a.Body(), nil
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
	a, err := t.s.g.PushFrom(req.Context(), body, true)
	if err != nil {
		return nil, fmt.Errorf("host: publishing the push on Redis: %w", err)
	}
	answer := a.Body()
	return &http.Response{
		Status: strconv.Itoa(a.Status) + " " + http.StatusText(a.Status), StatusCode: a.Status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(answer)),
		ContentLength: int64(len(answer)), Request: req,
	}, nil
}
