package scfwstest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/scfws/scfws-go/scfws"
)

// Push is one request the fake gateway received, parsed.
type Push struct {
	// Action is websocket.action ("data send" or "closing").
	Action scfws.Action
	// ConnectionID is websocket.secConnectionID.
	ConnectionID string
	// DataType and Data are websocket.dataType and websocket.data, "" on
	// a closing push.
	DataType scfws.DataType
	Data     string
	// Keys are the keys of the body's websocket object, sorted.
	Keys []string
	// Body is the raw request body.
	Body []byte
	// ContentType is the request's Content-Type header.
	ContentType string
	// Valid is false when the body was not a JSON push (the gateway then
	// answered 400 with errNo 400).
	Valid bool
}

// Rule tells the fake gateway how to answer. The zero Rule answers
// 200 {"errNo":0,"errMsg":"ok"}.
type Rule struct {
	// Status is the HTTP status; 0 means 200.
	Status int
	// ErrNo is the JSON answer's errNo.
	ErrNo int
	// ErrMsg is the JSON answer's errMsg; "" means "ok" for ErrNo 0 and
	// "error" otherwise.
	ErrMsg string
	// Body, when set, is sent instead of the JSON answer.
	Body string
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter string
	// Delay holds the answer back (ended early if the client goes away).
	Delay time.Duration
	// Drop closes the connection without an answer.
	Drop bool
	// Times limits the rule to the first Times matching requests; 0 means
	// always. Afterwards the gateway answers success.
	Times int
}

// Gateway is a fake reverse-push endpoint on a real HTTP server
// (httptest): it records every push and answers as its rules say. It needs
// no testing.T. All methods are safe for concurrent use.
type Gateway struct {
	// URL is the push URL to give a PushClient.
	URL string
	srv *httptest.Server

	mu          sync.Mutex
	pushes      []rawPush
	def         ruleState
	rules       map[string]*ruleState
	inFlight    int
	maxInFlight int
}

// NewGateway starts a fake gateway that accepts every push. Close it when done.
func NewGateway() *Gateway {
	g := &Gateway{rules: map[string]*ruleState{}}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	g.URL = g.srv.URL + "/api-scfwstest"
	return g
}

// SetDefault sets the rule for connections without their own.
func (g *Gateway) SetDefault(r Rule) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.def = ruleState{rule: r}
}

// SetRule sets the rule for one connection ID.
func (g *Gateway) SetRule(connectionID string, r Rule) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.rules[connectionID] = &ruleState{rule: r}
}

// rawPush is a request as received; it is parsed when read, to keep the
// gateway's own cost off the measured path.
type rawPush struct {
	body        []byte
	contentType string
}

// Pushes returns the pushes received so far, in arrival order.
func (g *Gateway) Pushes() []Push {
	g.mu.Lock()
	raw := slices.Clone(g.pushes)
	g.mu.Unlock()
	out := make([]Push, len(raw))
	for i, r := range raw {
		out[i] = parsePush(r.body, r.contentType)
	}
	return out
}

// PushesTo returns the pushes received for one connection.
func (g *Gateway) PushesTo(connectionID string) []Push {
	var out []Push
	for _, p := range g.Pushes() {
		if p.ConnectionID == connectionID {
			out = append(out, p)
		}
	}
	return out
}

// Requests returns how many requests arrived.
func (g *Gateway) Requests() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.pushes)
}

// MaxInFlight returns the largest number of requests it was answering at once.
func (g *Gateway) MaxInFlight() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.maxInFlight
}

// Reset forgets the recorded pushes and the in-flight maximum (rules stay).
func (g *Gateway) Reset() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pushes, g.maxInFlight = nil, 0
}

// Close shuts the server down, waiting for requests in flight.
func (g *Gateway) Close() { g.srv.Close() }

func (g *Gateway) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	id, valid := connectionOf(body)
	g.mu.Lock()
	g.pushes = append(g.pushes, rawPush{body: body, contentType: r.Header.Get("Content-Type")})
	g.inFlight++
	g.maxInFlight = max(g.maxInFlight, g.inFlight)
	rule := g.ruleFor(id)
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.inFlight--
		g.mu.Unlock()
	}()

	if !valid {
		rule = Rule{Status: http.StatusBadRequest, ErrNo: 400, ErrMsg: "invalid push body"}
	}
	if rule.Delay > 0 {
		t := time.NewTimer(rule.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if rule.Drop {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	answer := rule.Body
	if answer == "" {
		msg := rule.ErrMsg
		if msg == "" {
			msg = "ok"
			if rule.ErrNo != 0 {
				msg = "error"
			}
		}
		b, _ := json.Marshal(struct {
			ErrNo  int    `json:"errNo"`
			ErrMsg string `json:"errMsg"`
		}{rule.ErrNo, msg})
		answer = string(b)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
	if rule.RetryAfter != "" {
		w.Header().Set("Retry-After", rule.RetryAfter)
	}
	status := rule.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, answer)
}

// ruleState is a rule and how many requests it has answered.
type ruleState struct {
	rule Rule
	used int
}

// ruleFor picks and counts the rule for id; g.mu is held.
func (g *Gateway) ruleFor(id string) Rule {
	st, ok := g.rules[id]
	if !ok {
		st = &g.def
	}
	st.used++
	if st.rule.Times > 0 && st.used > st.rule.Times {
		return Rule{}
	}
	return st.rule
}

// connectionOf reads what a rule needs from a push body: its connection ID,
// and whether it is a valid push.
func connectionOf(body []byte) (string, bool) {
	var b struct {
		WebSocket *struct {
			Action          scfws.Action `json:"action"`
			SecConnectionID string       `json:"secConnectionID"`
		} `json:"websocket"`
	}
	if json.Unmarshal(body, &b) != nil || b.WebSocket == nil {
		return "", false
	}
	ws := b.WebSocket
	return ws.SecConnectionID, ws.SecConnectionID != "" && (ws.Action == scfws.ActionDataSend || ws.Action == scfws.ActionClosing)
}

func parsePush(buf []byte, contentType string) Push {
	p := Push{ContentType: contentType, Body: buf}
	var body struct {
		WebSocket map[string]json.RawMessage `json:"websocket"`
	}
	if err := json.Unmarshal(buf, &body); err != nil || body.WebSocket == nil {
		return p
	}
	for k := range body.WebSocket {
		p.Keys = append(p.Keys, k)
	}
	slices.Sort(p.Keys)
	str := func(k string) string {
		var s string
		_ = json.Unmarshal(body.WebSocket[k], &s)
		return s
	}
	p.Action = scfws.Action(str("action"))
	p.ConnectionID = str("secConnectionID")
	p.DataType = scfws.DataType(str("dataType"))
	p.Data = str("data")
	p.Valid = p.ConnectionID != "" && (p.Action == scfws.ActionDataSend || p.Action == scfws.ActionClosing)
	return p
}
