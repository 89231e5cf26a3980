package share

import (
	"encoding/json"
	"testing"

	"github.com/tonmesh/tonmesh/vault/passport"
)

// FuzzDecodeHeader feeds arbitrary header frames to the protocol decoder:
// it must refuse cleanly, and what it accepts must re-encode and decode.
func FuzzDecodeHeader(f *testing.F) {
	_, pub := serviceKeys(f)
	req := &passport.Request{ServiceID: "12D3KooWLRPJAA5o6k6XGTHNR4vZXm7LCAYAJBq3c34a4mwybG5n", Scope: json.RawMessage(`["pd"]`), PublicKey: pub, Nonce: "n"}
	seeds := []struct {
		kind byte
		v    any
	}{
		{kindRequest, &requestMsg{Request: req}},
		{kindShare, &shareMsg{Nonce: "n", Data: json.RawMessage(`{"data":[],"credentials":{"data":"","hash":"","secret":""}}`), Files: []wireFile{{FileID: "f", Size: 16}}}},
		{kindDecline, &declineMsg{Nonce: "n", Reason: "no"}},
		{kindErrors, &errorsMsg{Nonce: "n", Errors: []passport.PassportElementError{{Source: "unspecified", Type: "email", ElementHash: "aA==", Message: "x"}}}},
		{kindAttestation, &attestationMsg{Attestation: &passport.Attestation{Type: "email"}}},
		{kindAttestation, &attestationMsg{Attestation: &passport.Attestation{Type: "personal_details", SDAlg: passport.SDAlg, ClaimDigests: []string{"x"}},
			Disclosures: []string{"WyJBQUFBQUFBQUFBQUFBQUFBQUFBQUFBIiwiYWdlX292ZXJfMTgiLHRydWVd"}}},
		{kindShare, &shareMsg{Nonce: "n", Data: json.RawMessage(`{"data":[],"credentials":{"data":"","hash":"","secret":""}}`), Files: []wireFile{},
			Claims: []*passport.ClaimProof{{Type: "personal_details", SDAlg: passport.SDAlg, ClaimDigests: []string{"d"}, Disclosures: []string{"x"},
				KeyBinding: &passport.KeyBinding{Audience: "a", Nonce: "n"}}}}},
	}
	for _, s := range seeds {
		b, err := encodeHeader(s.kind, s.v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{9, '{', '}'})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeHeader(b)
		if err != nil {
			return
		}
		var v any
		switch m.kind {
		case kindRequest:
			v = m.request
		case kindShare:
			v = m.share
		case kindDecline:
			v = m.decline
		case kindErrors:
			v = m.errors
		case kindAttestation:
			v = m.attestation
		}
		again, err := encodeHeader(m.kind, v)
		if err != nil {
			t.Fatalf("accepted message does not re-encode: %v", err)
		}
		if _, err := decodeHeader(again); err != nil {
			t.Fatalf("re-encoded message refused: %v", err)
		}
	})
}
