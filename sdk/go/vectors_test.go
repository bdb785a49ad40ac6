package gatekeeper

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"testing"
)

// The shared vectors (sdk/testdata/vectors.json), made by Gatekeeper's own verifier.
type vector struct {
	Name          string `json:"name"`
	Method        string `json:"method"`
	Target        string `json:"target"`
	BodyB64       string `json:"body_b64"`
	Timestamp     int64  `json:"timestamp"`
	Nonce         string `json:"nonce"`
	ClientID      string `json:"client_id"`
	Secret        string `json:"secret"`
	StringToSign  string `json:"string_to_sign_b64"`
	Signature     string `json:"signature"`
	Authorization string `json:"authorization"`
}

func loadVectors(t *testing.T) []vector {
	t.Helper()
	raw, err := os.ReadFile("../testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Vectors []vector `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	return file.Vectors
}

func decode(t *testing.T, b64 string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTheVectorsCoverTheCasesThatBreakSignatures(t *testing.T) {
	names := map[string]bool{}
	for _, v := range loadVectors(t) {
		names[v.Name] = true
	}
	for _, want := range []string{"get-query-with-reserved-characters", "get-utf8-path-percent-encoded",
		"post-empty-body", "post-json-body", "put-binary-body"} {
		if !names[want] {
			t.Errorf("no vector %q", want)
		}
	}
}

func TestEveryVectorIsSignedAsGatekeeperVerifiesIt(t *testing.T) {
	for _, v := range loadVectors(t) {
		v := v
		t.Run(v.Name, func(t *testing.T) {
			body := decode(t, v.BodyB64)
			if got := StringToSign(v.Method, v.Target, v.Timestamp, v.Nonce, body); !bytes.Equal(got, decode(t, v.StringToSign)) {
				t.Errorf("string to sign:\n got %q\nwant %q", got, decode(t, v.StringToSign))
			}
			if got := Signature([]byte(v.Secret), v.Method, v.Target, v.Timestamp, v.Nonce, body); got != v.Signature {
				t.Errorf("signature %s, want %s", got, v.Signature)
			}
			creds := Credentials{ClientID: v.ClientID, Secret: v.Secret}
			got, err := SignAt(creds, v.Method, v.Target, body, v.Timestamp, v.Nonce)
			if err != nil {
				t.Fatal(err)
			}
			if got != v.Authorization {
				t.Errorf("header\n got %s\nwant %s", got, v.Authorization)
			}
		})
	}
}
