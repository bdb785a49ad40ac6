package gatekeeper

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

var (
	creds  = Credentials{ClientID: "7c0e2a4e-5d1b-4c1e-9a53-3f1f0f6b1a11", Secret: "q9Vh3xk2Zf8Lr0mT5wYbN1cE7sJ4pA6dG2uH0iK3oQ"}
	fields = regexp.MustCompile(`timestamp="([0-9]+)",nonce="([^"]+)",signature="([0-9a-f]{64})"`)
)

func mustSign(t *testing.T, method, target string, body []byte) []string {
	t.Helper()
	header, err := Sign(creds, method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	match := fields.FindStringSubmatch(header)
	if match == nil {
		t.Fatalf("not an HMAC header: %s", header)
	}
	return match[1:]
}

func TestEverySignatureGetsANonceOfItsOwn(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		nonce := mustSign(t, "GET", "/x", nil)[1]
		if seen[nonce] || !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(nonce) {
			t.Fatalf("nonce %q repeated or malformed", nonce)
		}
		seen[nonce] = true
	}
}

func TestEachSignatureReadsTheClockWhenItIsMade(t *testing.T) {
	times := []time.Time{time.Unix(1767225600, 900e6), time.Unix(1767225900, 200e6)}
	defer func(saved func() time.Time) { now = saved }(now)
	now = func() time.Time { next := times[0]; times = times[1:]; return next }

	first, second := mustSign(t, "GET", "/x", nil)[0], mustSign(t, "GET", "/x", nil)[0]
	if first != "1767225600" || second != "1767225900" {
		t.Fatalf("timestamps %s, %s", first, second)
	}
}

func TestTheMethodIsSignedUpperCase(t *testing.T) {
	lower, _ := SignAt(creds, "post", "/x", nil, 1, "n")
	upper, _ := SignAt(creds, "POST", "/x", nil, 1, "n")
	if lower != upper {
		t.Fatalf("%s != %s", lower, upper)
	}
}

func TestWhatGatekeeperCouldNeverAcceptIsRefused(t *testing.T) {
	cases := []struct {
		method, target, nonce string
		creds                 Credentials
		want                  error
	}{
		{"GET", "/api/caf\u00e9", "n", creds, ErrTarget},
		{"GET", "/a b", "n", creds, ErrTarget},
		{"GET", "/x#frag", "n", creds, ErrTarget},
		{"GET", "api/x", "n", creds, ErrTarget},
		{"GET", "https://h/x", "n", creds, ErrTarget},
		{"GET", "", "n", creds, ErrTarget},
		{"GET", "/x\r\nX-Injected: 1", "n", creds, ErrTarget},
		{"GET", "/x", "", creds, ErrNonce},
		{"GET", "/x", "a,b", creds, ErrNonce},
		{"GET", "/x", `a"b`, creds, ErrNonce},
		{"GET", "/x", "a b", creds, ErrNonce},
		{"GET", "/x", strings.Repeat("x", 129), creds, ErrNonce},
		{"GET", "/x", "n", Credentials{ClientID: "a,b", Secret: creds.Secret}, ErrClientID},
		{"GET", "/x", "n", Credentials{Secret: creds.Secret}, ErrClientID},
		{"GET /x", "/x", "n", creds, ErrMethod},
	}
	for _, c := range cases {
		_, err := SignAt(c.creds, c.method, c.target, nil, 1, c.nonce)
		if !errors.Is(err, c.want) {
			t.Errorf("%q %q %q: %v, want %v", c.method, c.target, c.nonce, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), creds.Secret) {
			t.Errorf("the error holds the secret")
		}
	}
	_, err := SignAt(creds, "GET", "/x?api_key=gk_a_secretpart x", nil, 1, "n")
	if err == nil || strings.Contains(err.Error(), "secretpart") {
		t.Errorf("the error repeats the target: %v", err)
	}
}

func TestCredentialsNeverPrintTheirSecret(t *testing.T) {
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		if shown := fmt.Sprintf(format, creds); strings.Contains(shown, creds.Secret) {
			t.Errorf("%s shows the secret: %s", format, shown)
		}
	}
}
