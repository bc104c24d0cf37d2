package emulator

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/coder/websocket"

	"github.com/scfws/scfws-go/scfws"
)

// The reverse-push answers (see the package documentation).
const (
	errNoNotFound   = 1001
	errNoMalformed  = 1002
	errNoBinary     = 1004
	errNoTooLarge   = 1005
	errNoDelivery   = 1006
	deliveryTimeout = 5 * time.Second
	pushReadTimeout = 5 * time.Second
)

// okBody is the push answer for success.
var okBody = []byte(`{"errNo":0,"errMsg":"ok"}`)

func (s *Server) servePush(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	// a slow body cannot hold the endpoint
	_ = http.NewResponseController(w).SetReadDeadline(start.Add(pushReadTimeout))
	status, errNo, errMsg, id, action := s.push(r)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	body := okBody
	if errNo != 0 {
		body, _ = json.Marshal(scfws.Response{ErrNo: errNo, ErrMsg: errMsg})
	}
	_, _ = w.Write(body)
	if errNo == 0 && !s.log.Enabled(r.Context(), slog.LevelInfo) {
		return
	}
	attrs := []any{"action", action, "secConnectionID", id, "status", status, "errNo", errNo, "latency", time.Since(start)}
	if errNo != 0 {
		dropped := false
		if c := s.lookup(id); c != nil && id != "" && !s.opts.KeepClientOnFailedPush {
			c.drop() // as the gateway: after a non-200 answer, FIN to the client
			dropped = true
		}
		s.log.Warn("emulator: push failed", append(attrs, "errMsg", errMsg, "clientDropped", dropped)...)
		return
	}
	s.log.Info("emulator: push", attrs...)
}

// push handles one reverse-push request.
func (s *Server) push(r *http.Request) (status, errNo int, errMsg, id, action string) {
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, errNoMalformed, "malformed push: use POST", "", ""
	}
	limit := s.opts.MaxMessageSize*4/3 + 4096 // base64 and the JSON around it
	raw, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return http.StatusBadRequest, errNoMalformed, "malformed push", "", ""
	}
	if int64(len(raw)) > limit {
		return http.StatusRequestEntityTooLarge, errNoTooLarge, "push too large", "", ""
	}
	var p scfws.PushRequest
	if err := json.Unmarshal(raw, &p); err != nil {
		return http.StatusBadRequest, errNoMalformed, "malformed push", "", ""
	}
	id, action = p.ConnectionID, string(p.Action)
	if p.Action == scfws.ActionClosing {
		c := s.lookup(id)
		if c == nil {
			return http.StatusNotFound, errNoNotFound, "connection not found", id, action
		}
		c.close(websocket.StatusNormalClosure, "")
		return http.StatusOK, 0, "ok", id, action
	}
	typ, data := websocket.MessageText, []byte(p.Message.Data)
	if p.Message.DataType == scfws.DataBinary {
		typ = websocket.MessageBinary
		if data, err = base64.StdEncoding.DecodeString(p.Message.Data); err != nil {
			return http.StatusBadRequest, errNoBinary, "invalid binary data", id, action
		}
	}
	if int64(len(data)) > s.opts.MaxMessageSize {
		return http.StatusRequestEntityTooLarge, errNoTooLarge, "push too large", id, action
	}
	c := s.lookup(id)
	if c == nil {
		return http.StatusNotFound, errNoNotFound, "connection not found", id, action
	}
	ctx, cancel := context.WithTimeout(r.Context(), deliveryTimeout)
	defer cancel()
	ws, ok := c.conn(ctx)
	if !ok {
		return http.StatusNotFound, errNoNotFound, "connection not found", id, action
	}
	if err := ws.Write(ctx, typ, data); err != nil {
		return http.StatusBadGateway, errNoDelivery, "delivery failed", id, action
	}
	return http.StatusOK, 0, "ok", id, action
}
