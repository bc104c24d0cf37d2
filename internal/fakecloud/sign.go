package fakecloud

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// authorization is TC3-HMAC-SHA256's Authorization header.
var authorization = regexp.MustCompile(`^TC3-HMAC-SHA256 Credential=([^/]+)/(\d{4}-\d{2}-\d{2})/([a-z]+)/tc3_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$`)

// verify checks a request's TC3-HMAC-SHA256 signature as Tencent documents
// it (computed here from the algorithm, not by the SDK): the code of the
// error to answer, "" when it is valid. service is the credential scope's.
func (s *Server) verify(r *http.Request, body []byte) (code, msg, service string) {
	m := authorization.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		return "AuthFailure.InvalidAuthorization", "Authorization is not TC3-HMAC-SHA256 as documented", ""
	}
	id, date, service, signed, sig := m[1], m[2], m[3], m[4], m[5]
	cred, ok := s.creds[id]
	if !ok {
		return "AuthFailure.SecretIdNotFound", "The SecretId is not found, please ensure that your SecretId is correct.", service
	}
	ts, err := strconv.ParseInt(r.Header.Get("X-TC-Timestamp"), 10, 64)
	if err != nil {
		return "MissingParameter", "X-TC-Timestamp is missing or not a number", service
	}
	if d := time.Since(time.Unix(ts, 0)); d > 5*time.Minute || d < -5*time.Minute ||
		time.Unix(ts, 0).UTC().Format("2006-01-02") != date {
		return "AuthFailure.SignatureExpire", "Signature expired: the timestamp is more than 5 minutes off, or not of the scope's date", service
	}
	if cred.token != "" && r.Header.Get("X-TC-Token") != cred.token {
		return "AuthFailure.InvalidSecretId", "a temporary credential needs its token (X-TC-Token)", service
	}
	var canonHeaders strings.Builder
	for name := range strings.SplitSeq(signed, ";") {
		v := r.Header.Get(name)
		if name == "host" {
			v = r.Host
		}
		fmt.Fprintf(&canonHeaders, "%s:%s\n", name, strings.ToLower(strings.TrimSpace(v)))
	}
	canonical := strings.Join([]string{r.Method, "/", r.URL.RawQuery, canonHeaders.String(), signed, hexSHA(body)}, "\n")
	scope := date + "/" + service + "/tc3_request"
	toSign := "TC3-HMAC-SHA256\n" + strconv.FormatInt(ts, 10) + "\n" + scope + "\n" + hexSHA([]byte(canonical))
	key := hmacSHA([]byte("TC3"+cred.key), date)
	key = hmacSHA(key, service)
	key = hmacSHA(key, "tc3_request")
	if !hmac.Equal([]byte(hex.EncodeToString(hmacSHA(key, toSign))), []byte(sig)) {
		return "AuthFailure.SignatureFailure", "The provided credentials could not be validated. Please check your signature is correct.", service
	}
	return "", "", service
}

func hexSHA(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func hmacSHA(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}
