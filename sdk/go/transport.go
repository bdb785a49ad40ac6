package gatekeeper

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
)

// Transport is an http.RoundTripper that signs every request with HMAC before Base sends it.
// http.Client calls it once per attempt and per redirect, so each gets its own timestamp,
// nonce and target. It reads the body into memory to sign it and sends those same bytes.
type Transport struct {
	Credentials Credentials
	// Base sends the signed request; http.DefaultTransport when nil.
	Base http.RoundTripper
}

// RoundTrip signs a copy of req (the caller's request is not modified) and sends it.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := drain(req)
	if err != nil {
		return nil, err
	}
	out := req.Clone(req.Context())
	// Gatekeeper's methods are upper-case; net/http sends the method as given.
	out.Method = strings.ToUpper(req.Method)
	setBody(out, body)
	// What net/http writes on the request line (absent a forward proxy).
	header, err := Sign(t.Credentials, out.Method, out.URL.RequestURI(), body)
	if err != nil {
		return nil, err
	}
	out.Header.Set("Authorization", header)
	return base(t.Base).RoundTrip(out)
}

// KeyTransport is an http.RoundTripper that sends an API key with every request:
// "Authorization: Bearer <key>", or the key alone in Header (e.g. "X-API-Key").
type KeyTransport struct {
	Key string
	// Header is "Authorization" when empty.
	Header string
	Base   http.RoundTripper
}

// RoundTrip adds the key to a copy of req and sends it.
func (t *KeyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.Key == "" || strings.ContainsAny(t.Key, " \t\r\n") {
		closeBody(req)
		return nil, errors.New("gatekeeper: an API key is one non-empty token without spaces")
	}
	out := req.Clone(req.Context())
	if t.Header == "" || strings.EqualFold(t.Header, "Authorization") {
		out.Header.Set("Authorization", "Bearer "+t.Key)
	} else {
		out.Header.Set(t.Header, t.Key)
	}
	return base(t.Base).RoundTrip(out)
}

func base(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		return http.DefaultTransport
	}
	return rt
}

// drain reads and closes the body (a RoundTripper must close it, even on error).
func drain(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	defer req.Body.Close()
	return io.ReadAll(req.Body)
}

func setBody(req *http.Request, body []byte) {
	req.ContentLength = int64(len(body))
	req.TransferEncoding = nil
	if len(body) == 0 {
		req.Body, req.GetBody = http.NoBody, func() (io.ReadCloser, error) { return http.NoBody, nil }
		return
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}
