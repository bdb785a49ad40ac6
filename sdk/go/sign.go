// Package gatekeeper signs requests to APIs behind Gatekeeper: API keys and HMAC signatures.
//
// signature = hex(HMAC-SHA256(secret, METHOD \n target \n timestamp \n nonce \n body)), where
// target is the request target exactly as it goes on the wire (path plus ?query, percent-
// encoded as sent) and body the body bytes. Transport signs every request an http.Client
// sends, anew for each attempt and redirect; Sign signs one request by hand.
package gatekeeper

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// MaxSkew is how far a timestamp may be from Gatekeeper's clock, either way.
const MaxSkew = 300 * time.Second

const nonceBytes = 16

var (
	// Origin-form, printable ASCII, no space or '#': Gatekeeper refuses any other target.
	targetPattern = regexp.MustCompile(`^/[\x21\x22\x24-\x7e]*$`)
	methodPattern = regexp.MustCompile("^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$")
	// Header values sit between quotes in a comma-separated list: neither may appear in them.
	noncePattern    = regexp.MustCompile(`^[\x21\x23-\x2b\x2d-\x7e]{1,128}$`)
	clientIDPattern = regexp.MustCompile(`^[\x21\x23-\x2b\x2d-\x7e]+$`)

	// ErrTarget is returned for a target that cannot be sent and signed as it is. The target
	// itself is never part of an error: its query may hold a credential.
	ErrTarget = errors.New("gatekeeper: the target must be the path and query exactly as sent, " +
		"e.g. /v1/orders?id=7: starting with '/', percent-encoded, with no space, '#' or non-ASCII character")
	// ErrNonce is returned for a nonce the Authorization header cannot carry.
	ErrNonce = errors.New("gatekeeper: a nonce is 1-128 printable ASCII characters without spaces, quotes or commas")
	// ErrClientID is returned for a client id the Authorization header cannot carry.
	ErrClientID = errors.New("gatekeeper: the client id must be printable ASCII without spaces, quotes or commas")
	// ErrMethod is returned for a method that is not an HTTP token.
	ErrMethod = errors.New("gatekeeper: the method is not an HTTP method token")

	// now is the clock; tests replace it.
	now = time.Now
)

// Credentials are an HMAC client's id and secret (used as its UTF-8 bytes).
type Credentials struct {
	ClientID string
	Secret   string
}

// String never shows the secret.
func (c Credentials) String() string {
	return fmt.Sprintf("gatekeeper.Credentials{ClientID: %q}", c.ClientID)
}

// GoString never shows the secret, even under %#v.
func (c Credentials) GoString() string { return c.String() }

// Sign returns the Authorization header value for one request, signed with the current time
// and a fresh random nonce. target is the path and query exactly as sent (req.URL.RequestURI()).
func Sign(c Credentials, method, target string, body []byte) (string, error) {
	nonce, err := NewNonce()
	if err != nil {
		return "", err
	}
	return SignAt(c, method, target, body, now().Unix(), nonce)
}

// SignAt is Sign with a given timestamp and nonce: for reproducing a known signature. Never
// send a nonce twice; Gatekeeper refuses the second request.
func SignAt(c Credentials, method, target string, body []byte, timestamp int64, nonce string) (string, error) {
	method = strings.ToUpper(method)
	switch {
	case !targetPattern.MatchString(target):
		return "", ErrTarget
	case !methodPattern.MatchString(method):
		return "", ErrMethod
	case !clientIDPattern.MatchString(c.ClientID):
		return "", ErrClientID
	case !noncePattern.MatchString(nonce):
		return "", ErrNonce
	case timestamp < 0:
		return "", errors.New("gatekeeper: the timestamp must be Unix seconds")
	}
	signature := Signature([]byte(c.Secret), method, target, timestamp, nonce, body)
	return fmt.Sprintf(`HMAC client_id="%s",timestamp="%d",nonce="%s",signature="%s"`,
		c.ClientID, timestamp, nonce, signature), nil
}

// StringToSign returns the exact bytes a signature covers.
func StringToSign(method, target string, timestamp int64, nonce string, body []byte) []byte {
	head := fmt.Sprintf("%s\n%s\n%d\n%s\n", strings.ToUpper(method), target, timestamp, nonce)
	return append([]byte(head), body...)
}

// Signature returns the hex HMAC-SHA256 of StringToSign under secret.
func Signature(secret []byte, method, target string, timestamp int64, nonce string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(StringToSign(method, target, timestamp, nonce, body))
	return hex.EncodeToString(mac.Sum(nil))
}

// NewNonce returns 128 random bits in hex: never the same twice.
func NewNonce() (string, error) {
	b := make([]byte, nonceBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("gatekeeper: no randomness for a nonce: %w", err)
	}
	return hex.EncodeToString(b), nil
}
