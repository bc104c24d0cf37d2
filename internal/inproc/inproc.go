// Package inproc is the link between scfws.PushClient and a gateway in the
// same process (package host): a PushOptions.HTTPClient whose Transport is
// a Deliverer gets its pushes handed over as they are, without encoding a
// body, building an HTTP request or going through resty. The answer is classified exactly as
// an HTTP answer is.
package inproc

import "context"

// Deliverer delivers one push to pushURL — a closing, or a message of
// dataType ("text", "binary": data in base64) — and answers as the
// gateway's push endpoint would: an HTTP status and body, or err for no
// answer.
type Deliverer interface {
	DeliverPush(ctx context.Context, pushURL, connectionID string, closing bool, dataType, data string) (
		status int, answer []byte, err error)
}
