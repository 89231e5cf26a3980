package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/webui"
)

// TestUIPrintsLoginLink: `tonmesh ui --print` asks the daemon for a login
// link with the bearer token and prints it.
func TestUIPrintsLoginLink(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != webui.LoginLinkPath || r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, `{"error":{"message":"no"}}`, http.StatusUnauthorized)
			return
		}
		json.NewEncoder(w).Encode(webui.LoginLink{URL: "http://127.0.0.1:1/ui/login?code=abc", Expires: time.Now().Add(time.Minute)})
	}))
	defer srv.Close()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"--api", srv.URL, "--token", "tok", "ui", "--print"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "http://127.0.0.1:1/ui/login?code=abc") {
		t.Fatalf("tonmesh ui printed %q", out.String())
	}
	root = newRootCmd()
	root.SetOut(&out)
	root.SetArgs([]string{"--api", srv.URL, "--token", "wrong", "ui", "--print"})
	if err := root.Execute(); err == nil || !strings.Contains(err.Error(), "login link") {
		t.Fatalf("tonmesh ui with a wrong token: %v", err)
	}
}
