package gatekeeper

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// arrived is a request as the server read it off the wire.
type arrived struct {
	method, target, authorization, apiKey, trace string
	body                                         []byte
}

// Gatekeeper's check: the signature covers the target and body that arrived.
func (a arrived) verifies(secret string) bool {
	match := fields.FindStringSubmatch(a.authorization)
	if match == nil {
		return false
	}
	timestamp, _ := strconv.ParseInt(match[1], 10, 64)
	return Signature([]byte(secret), a.method, a.target, timestamp, match[2], a.body) == match[3]
}

type recorder struct {
	mu   sync.Mutex
	seen []arrived
}

func (r *recorder) take() []arrived {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := r.seen
	r.seen = nil
	return seen
}

// serve records every request; /old redirects to /new with a 307 (the body is sent again).
func serve(t *testing.T) (*httptest.Server, *recorder) {
	rec := &recorder{}
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.seen = append(rec.seen, arrived{r.Method, r.RequestURI, r.Header.Get("Authorization"),
			r.Header.Get("X-API-Key"), r.Header.Get("X-Trace"), body})
		rec.mu.Unlock()
		if strings.HasPrefix(r.URL.Path, "/old") {
			http.Redirect(w, r, "/new?from=old", http.StatusTemporaryRedirect)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(server.Close)
	return server, rec
}

func signedClient() *http.Client { return &http.Client{Transport: &Transport{Credentials: creds}} }

func send(t *testing.T, client *http.Client, method, url string, body io.Reader) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s: %d", method, url, resp.StatusCode)
	}
}

func TestTheSignedTargetIsTheOneOnTheWire(t *testing.T) {
	server, rec := serve(t)
	// Raw UTF-8 and spaces in the path, lower-case escapes, brackets, an encoded slash kept
	// in RawPath, an empty query, a fragment.
	for _, target := range []string{"/v1/orders", "/v1/caf\u00e9/\u20ac a?name=J%C3%BCrgen", "/v1/na%c3%afve?q=%e2%9c%93",
		"/v1/list[0]?filter[name]=x", "/v1/a%2Fb/c", "/v1/orders?", "/v1/x?next=https://e.com/x?y=1&l=a,b;c", "/v1/x#frag", ""} {
		send(t, signedClient(), "GET", server.URL+target, nil)
		got := rec.take()
		if len(got) != 1 || !got[0].verifies(creds.Secret) {
			t.Errorf("%q arrived as %+v", target, got)
		}
	}
}

// unsized hides the length, so net/http would send it chunked.
type unsized struct{ io.Reader }

func TestTheSignedBodyIsTheOneOnTheWire(t *testing.T) {
	server, rec := serve(t)
	bodies := map[string]func() io.Reader{
		"bytes":   func() io.Reader { return bytes.NewReader([]byte{0, 1, 2, 255, 254}) },
		"json":    func() io.Reader { return strings.NewReader(`{"order":7,"note":"\u00fcn\u00efcode"}`) },
		"chunked": func() io.Reader { return unsized{strings.NewReader("streamed \u00e9")} },
		"empty":   func() io.Reader { return strings.NewReader("") },
		"none":    func() io.Reader { return nil },
	}
	for name, body := range bodies {
		send(t, signedClient(), "POST", server.URL+"/v1/orders?x=1", body())
		got := rec.take()
		if len(got) != 1 || !got[0].verifies(creds.Secret) {
			t.Errorf("%s arrived as %+v", name, got)
		}
	}
}

func TestEachRedirectIsSignedForItsOwnTarget(t *testing.T) {
	server, rec := serve(t)
	send(t, signedClient(), "PUT", server.URL+"/old", strings.NewReader("moved body"))

	got := rec.take()
	if len(got) != 2 || got[1].target != "/new?from=old" || string(got[1].body) != "moved body" {
		t.Fatalf("arrived %+v", got)
	}
	if !got[0].verifies(creds.Secret) || !got[1].verifies(creds.Secret) || got[0].authorization == got[1].authorization {
		t.Errorf("each hop must carry its own signature: %+v", got)
	}
}

func TestEveryAttemptIsSignedAnew(t *testing.T) {
	server, rec := serve(t)
	client := signedClient()
	for attempt := 0; attempt < 3; attempt++ {
		send(t, client, "POST", server.URL+"/v1/orders", strings.NewReader("same body"))
	}
	nonces := map[string]bool{}
	for _, a := range rec.take() {
		nonces[fields.FindStringSubmatch(a.authorization)[2]] = true
		if !a.verifies(creds.Secret) {
			t.Errorf("%+v does not verify", a)
		}
	}
	if len(nonces) != 3 {
		t.Fatalf("%d distinct nonces in 3 attempts", len(nonces))
	}
}

func TestALowerCaseMethodIsSentAndSignedUpperCase(t *testing.T) {
	server, rec := serve(t)
	send(t, signedClient(), "patch", server.URL+"/v1/orders/7", strings.NewReader("{}"))
	got := rec.take()
	if got[0].method != "PATCH" || !got[0].verifies(creds.Secret) {
		t.Fatalf("arrived %+v", got[0])
	}
}

func TestTheCallersRequestIsLeftAlone(t *testing.T) {
	server, rec := serve(t)
	req, _ := http.NewRequest("POST", server.URL+"/v1/orders", strings.NewReader("x"))
	req.Header.Set("X-Trace", "1")
	resp, err := signedClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if req.Header.Get("Authorization") != "" {
		t.Error("the caller's request got the signature")
	}
	if got := rec.take(); got[0].trace != "1" {
		t.Errorf("the caller's headers were not sent: %+v", got[0])
	}
}

func TestAURLThatCannotBeSignedIsRefusedBeforeSending(t *testing.T) {
	server, rec := serve(t)
	// net/http would write this query's space raw onto the request line.
	req, _ := http.NewRequest("GET", server.URL+"/v1/x?q=a b", nil)
	_, err := signedClient().Do(req)
	if !errors.Is(err, ErrTarget) {
		t.Fatalf("err = %v, want ErrTarget", err)
	}
	if len(rec.take()) != 0 {
		t.Error("the request was sent")
	}
}

func TestAKeyGoesInAsABearerTokenOrInItsOwnHeader(t *testing.T) {
	server, rec := serve(t)
	key := "gk_abcd1234_" + strings.Repeat("k", 32)
	send(t, &http.Client{Transport: &KeyTransport{Key: key}}, "GET", server.URL+"/v1/orders", nil)
	send(t, &http.Client{Transport: &KeyTransport{Key: key, Header: "X-API-Key"}}, "GET", server.URL+"/v1/orders", nil)

	got := rec.take()
	if got[0].authorization != "Bearer "+key || got[1].apiKey != key || got[1].authorization != "" {
		t.Fatalf("arrived %+v", got)
	}
	req, _ := http.NewRequest("GET", server.URL, nil)
	if _, err := (&http.Client{Transport: &KeyTransport{Key: "two words"}}).Do(req); err == nil {
		t.Error("a key with a space was sent")
	}
}
