package host

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// transport is the RoundTripper of [Server.Client]: the push endpoint of
// the gateway core, called in-process.
type transport struct{ s *Server }

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
