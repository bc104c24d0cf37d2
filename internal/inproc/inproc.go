// Package inproc is the link between scfws.PushClient and a gateway in the
// same process (package host): a PushOptions.HTTPClient whose Transport is
// a Deliverer gets its pushes handed over as they are, without encoding a
// body, building an HTTP request or going through resty. The answer is
// classified exactly as an HTTP answer is.
package inproc

import "context"

// Deliverer delivers one message to each of connectionIDs — a closing, or
// a message of dataType ("text", "binary": data in base64) — and answers
// for each as the gateway's push endpoint would answer a push to it: an
// HTTP status and body, or err for no answer. It calls answer once per ID,
// from the calling goroutine, before it returns. Many IDs are one
// broadcast: the gateway sends them as it can best (package host: one
// Redis command per instance that holds some of them).
type Deliverer interface {
	DeliverPush(ctx context.Context, pushURL string, connectionIDs []string, closing bool, dataType, data string,
		answer func(connectionID string, status int, body []byte, err error))
}
