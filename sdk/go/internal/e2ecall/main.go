// Command e2ecall makes end-to-end calls through nginx and Gatekeeper for Gatekeeper's suite
// (authz/tests/e2e/test_client_libraries.py). It reads GK_BASE_URL, GK_API_KEY, GK_CLIENT_ID
// and GK_SECRET, and prints one JSON line per step: {"step", "status", "body"}. It never
// prints a credential.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"gatekeeper.example/gatekeeper"
)

const order = `{"order":7,"items":[{"sku":"A-1","qty":2}],"note":"\u00fcn\u00efcode"}`

var base = os.Getenv("GK_BASE_URL")

func main() {
	creds := gatekeeper.Credentials{ClientID: os.Getenv("GK_CLIENT_ID"), Secret: os.Getenv("GK_SECRET")}
	keyed := &http.Client{Transport: &gatekeeper.KeyTransport{Key: os.Getenv("GK_API_KEY")}}
	signed := &http.Client{Transport: &gatekeeper.Transport{Credentials: creds}}

	report("key-get", keyed, get("/api/data/items?colour=blue&size=m%2Fl"))
	report("hmac-get-query", signed, get("/api/reports/d%C3%A9tail?from=2026-01-01&q=caf%C3%A9%20au%20lait&path=/x/y&list=a,b;c"))
	report("hmac-post-json", signed, post("/signed/data/orders?batch=1", order, ""))

	// Signed by hand over one body, sent with another.
	report("tampered-body", http.DefaultClient, post("/signed/data/orders", `{"order": 7, "amount": 900}`,
		byHand(creds, "/signed/data/orders", `{"order": 7, "amount": 100}`)))

	once := byHand(creds, "/signed/data/orders", `{"order": 8}`)
	for _, step := range []string{"replay-first", "replay-again"} {
		report(step, http.DefaultClient, post("/signed/data/orders", `{"order": 8}`, once))
	}
}

func get(path string) *http.Request {
	req, err := http.NewRequest("GET", base+path, nil)
	check(err)
	return req
}

func post(path, body, authorization string) *http.Request {
	req, err := http.NewRequest("POST", base+path, strings.NewReader(body))
	check(err)
	req.Header.Set("Content-Type", "application/json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	return req
}

func byHand(creds gatekeeper.Credentials, path, body string) string {
	header, err := gatekeeper.Sign(creds, "POST", path, []byte(body))
	check(err)
	return header
}

func report(step string, client *http.Client, req *http.Request) {
	resp, err := client.Do(req)
	check(err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	check(err)
	line, err := json.Marshal(map[string]interface{}{"step": step, "status": resp.StatusCode, "body": string(body)})
	check(err)
	fmt.Println(string(line))
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2ecall:", err)
		os.Exit(1)
	}
}
