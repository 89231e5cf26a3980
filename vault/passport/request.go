package passport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Limits on an authorization request.
const (
	MaxNonceLen    = 128
	MaxCallbackLen = 1024
	MaxRequestSize = 16 << 10
	maxPEMLen      = 4 << 10
)

// LinkScheme and LinkHost start every request link: tonmesh://passport?…
const (
	LinkScheme = "tonmesh"
	LinkHost   = "passport"
)

// Request is a service's authorization request, the tonmesh counterpart of
// Telegram's: the service's peer ID (where the share is delivered), the
// scope (raw JSON, v1 form), its RSA public key in PEM, a nonce it will
// accept once, and an optional callback URL.
type Request struct {
	ServiceID peer.ID         `json:"service"`
	Scope     json.RawMessage `json:"scope"`
	PublicKey string          `json:"public_key"`
	Nonce     string          `json:"nonce"`
	Callback  string          `json:"callback,omitempty"`
}

// Validate checks every field and returns the parsed scope.
func (r *Request) Validate() (*Scope, error) {
	if r.ServiceID == "" {
		return nil, errors.New("request: service: missing peer ID")
	}
	if err := r.ServiceID.Validate(); err != nil {
		return nil, fmt.Errorf("request: service: %w", err)
	}
	if _, err := r.ServiceID.ExtractPublicKey(); err != nil {
		return nil, fmt.Errorf("request: service: %s does not embed its public key: %w", r.ServiceID, err)
	}
	if err := CheckNonce(r.Nonce); err != nil {
		return nil, fmt.Errorf("request: %w", err)
	}
	if len(r.Callback) > MaxCallbackLen {
		return nil, fmt.Errorf("request: callback: %d bytes, the limit is %d", len(r.Callback), MaxCallbackLen)
	}
	if r.Callback != "" {
		u, err := url.Parse(r.Callback)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "tg" && u.Scheme != LinkScheme) {
			return nil, fmt.Errorf("request: callback %q: give an http(s):// URL", r.Callback)
		}
	}
	if len(r.PublicKey) > maxPEMLen {
		return nil, fmt.Errorf("request: public_key: %d bytes, the limit is %d", len(r.PublicKey), maxPEMLen)
	}
	if _, err := ParsePublicKey(r.PublicKey); err != nil {
		return nil, fmt.Errorf("request: %w", err)
	}
	s, err := ParseScope(r.Scope)
	if err != nil {
		return nil, fmt.Errorf("request: %w", err)
	}
	return s, nil
}

// CheckNonce accepts 1 to MaxNonceLen characters of A-Z a-z 0-9 and -_.:~+/=.
func CheckNonce(n string) error {
	if n == "" || len(n) > MaxNonceLen {
		return fmt.Errorf("nonce: must be 1-%d characters", MaxNonceLen)
	}
	for _, c := range n {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.:~+/=", c)) {
			return fmt.Errorf("nonce: %q: use letters, digits and -_.:~+/=", n)
		}
	}
	return nil
}

// Link renders r as tonmesh://passport?service=…&scope=…&public_key=…&nonce=…[&callback=…].
func (r *Request) Link() string {
	q := url.Values{}
	q.Set("service", r.ServiceID.String())
	q.Set("scope", string(r.Scope))
	q.Set("public_key", r.PublicKey)
	q.Set("nonce", r.Nonce)
	if r.Callback != "" {
		q.Set("callback", r.Callback)
	}
	return LinkScheme + "://" + LinkHost + "?" + q.Encode()
}

// ParseLink reads a link made by Link and validates the request.
func ParseLink(link string) (*Request, error) {
	if len(link) > 3*MaxRequestSize {
		return nil, fmt.Errorf("link: %d bytes is too long", len(link))
	}
	u, err := url.Parse(strings.TrimSpace(link))
	if err != nil {
		return nil, fmt.Errorf("link: %w", err)
	}
	if u.Scheme != LinkScheme || u.Host != LinkHost || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("link: must start with %s://%s?", LinkScheme, LinkHost)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("link: query: %w", err)
	}
	for k, vs := range q {
		switch k {
		case "service", "scope", "public_key", "nonce", "callback":
		default:
			return nil, fmt.Errorf("link: unknown parameter %q", k)
		}
		if len(vs) != 1 {
			return nil, fmt.Errorf("link: parameter %q given %d times", k, len(vs))
		}
	}
	id, err := peer.Decode(q.Get("service"))
	if err != nil {
		return nil, fmt.Errorf("link: service: %q is not a peer ID: %w", q.Get("service"), err)
	}
	r := &Request{ServiceID: id, Scope: json.RawMessage(q.Get("scope")), PublicKey: q.Get("public_key"), Nonce: q.Get("nonce"), Callback: q.Get("callback")}
	if _, err := r.Validate(); err != nil {
		return nil, err
	}
	return r, nil
}

// Encode writes r as JSON, the form DecodeRequest reads.
func (r *Request) Encode() ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("request: encode: %w", err)
	}
	return b, nil
}

// DecodeRequest reads Encode's JSON strictly (no unknown fields, bounded)
// and validates the request.
func DecodeRequest(b []byte) (*Request, error) {
	if len(b) > MaxRequestSize {
		return nil, fmt.Errorf("request: %d bytes, the limit is %d", len(b), MaxRequestSize)
	}
	var r Request
	if err := strictJSON(b, &r); err != nil {
		return nil, fmt.Errorf("request: %w", err)
	}
	r.Scope = json.RawMessage(bytes.Clone(r.Scope))
	if _, err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}
