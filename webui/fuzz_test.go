package webui

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzRequestChecks feeds arbitrary Host, Origin and Sec-Fetch-Site
// headers, which any page's browser (or any program) can send, to the
// checks and asserts what they may let through.
func FuzzRequestChecks(f *testing.F) {
	f.Add("127.0.0.1:4101", "http://127.0.0.1:4101", "same-origin")
	f.Add("localhost:4101", "null", "same-origin")
	f.Add("evil.example:4101", "http://evil.example:4101", "cross-site")
	f.Add("[::1]:4101", "", "")
	f.Add("127.0.0.1:4101", "http://127.0.0.1:4103", "same-site")
	f.Fuzz(func(t *testing.T, host, origin, site string) {
		r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:4101/ui/api/api/v1/chat/send", nil)
		local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4101}
		r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, local))
		r.Host = host
		r.Header.Set("Origin", origin)
		r.Header.Set("Sec-Fetch-Site", site)
		if hostAllowed(r) {
			h, port, err := net.SplitHostPort(host)
			if err != nil || port != "4101" {
				t.Fatalf("Host %q allowed: not port 4101", host)
			}
			switch strings.ToLower(h) {
			case "127.0.0.1", "localhost", "::1":
			default:
				t.Fatalf("Host %q allowed: not a loopback name", host)
			}
		}
		if originAllowed(r) {
			if origin != "" && origin != "null" && origin != "http://"+host {
				t.Fatalf("Origin %q allowed for Host %q", origin, host)
			}
			if site != "" && site != "same-origin" {
				t.Fatalf("Sec-Fetch-Site %q allowed", site)
			}
			if site == "" && origin != "http://"+host {
				t.Fatalf("allowed with neither a same-origin fetch nor a matching Origin (%q, %q)", origin, site)
			}
		}
	})
}
