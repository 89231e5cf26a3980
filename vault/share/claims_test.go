package share

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/tonmesh/tonmesh/internal/apiutil"
	"github.com/tonmesh/tonmesh/vault/passport"
)

// teeStream records every byte the handler reads from the stream.
type teeStream struct {
	network.Stream
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (t *teeStream) Read(p []byte) (int, error) {
	n, err := t.Stream.Read(p)
	t.mu.Lock()
	t.buf.Write(p[:n])
	t.mu.Unlock()
	return n, err
}

// tapIncoming makes s record what arrives on the share protocol until the
// test ends, and returns a function that reads the record.
func tapIncoming(t *testing.T, s *Service) func() []byte {
	var mu sync.Mutex
	var buf bytes.Buffer
	s.net.Handle(Protocol, func(ctx context.Context, st network.Stream) error {
		return s.handleStream(ctx, &teeStream{Stream: st, mu: &mu, buf: &buf})
	}, 2*time.Minute)
	t.Cleanup(func() { s.net.Handle(Protocol, s.handleStream, 2*time.Minute) })
	return func() []byte {
		mu.Lock()
		defer mu.Unlock()
		return bytes.Clone(buf.Bytes())
	}
}

// attestPersonalClaims has the verifier receive the owner's personal
// details and attest them with every default claim.
func attestPersonalClaims(t *testing.T, verifier, owner *Service) *passport.Attestation {
	t.Helper()
	priv, _ := serviceKeys(t)
	id, _ := shareWith(t, verifier, owner, `["personal_details"]`, false)
	if _, err := verifier.AttestClaims(context.Background(), id, passport.TypePersonalDetails, "", []string{ClaimsAll}); !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), "private_key") {
		t.Fatalf("claims without the key: %v", err)
	}
	a, err := verifier.AttestClaims(context.Background(), id, passport.TypePersonalDetails, priv, []string{ClaimsAll})
	if err != nil {
		t.Fatal(err)
	}
	if !a.HasClaims() || a.Subject != owner.PeerID().String() || len(a.Claims) != 3 || !a.Claims["age_over_18"] {
		t.Fatalf("attestation %+v", a)
	}
	return a.Attestation
}

func TestClaimsProveAgeWithoutBirthDate(t *testing.T) {
	ctx := context.Background()
	c := getCluster(t)
	verifier, user, service := c.svc, c.user, c.other
	priv, pub := serviceKeys(t)
	a := attestPersonalClaims(t, verifier, user)

	held, err := user.Attestations()
	if err != nil {
		t.Fatal(err)
	}
	var mine *AttestationView
	for i := range held {
		if held[i].Signature == a.Signature {
			mine = &held[i]
		}
	}
	if mine == nil || !mine.Claims["age_over_18"] || !mine.Claims["age_over_21"] || !mine.Claims["resident_of:DE"] || len(mine.Claims) != 3 {
		t.Fatalf("the owner holds %+v", mine)
	}

	wire := tapIncoming(t, service)
	// (The plain part is the identity card: another test needs this service
	// never to have received the address.)
	scope := `{"v":1,"data":[{"type":"personal_details","claims":["age_over_18"]},"identity_card"]}`
	res, err := service.NewRequest(ctx, NewRequestParams{Scope: json.RawMessage(scope), PublicKey: pub, To: user.PeerID().String()})
	if err != nil || !res.Delivered {
		t.Fatalf("request: %+v, %v", res, err)
	}
	v := pendingByID(t, user, res.ID)
	if v == nil || len(v.Asks) != 2 || len(v.Missing) != 0 {
		t.Fatalf("pending %+v", v)
	}
	ask := v.Asks[0]
	if len(ask.Fields) != 0 || len(ask.Files) != 0 || len(ask.Claims) != 1 || ask.Claims[0] != "age_over_18" ||
		len(ask.Unattested) != 0 || !ask.Disclose["age_over_18"] || ask.Verifier != verifier.PeerID().String() {
		t.Fatalf("the consent view of the claims entry: %+v", ask)
	}
	sum, err := user.Approve(ctx, res.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Types) != 1 || sum.Types[0] != passport.TypeIdentityCard || !sum.Claims["age_over_18"] || len(sum.Claims) != 1 {
		t.Fatalf("summary %+v: want the identity card as data and age_over_18 as a claim", sum)
	}

	// What the service learns.
	recv, err := service.Received()
	if err != nil {
		t.Fatal(err)
	}
	var got *ReceivedView
	for i := range recv {
		if recv[i].ID == res.ID {
			got = &recv[i]
		}
	}
	if got == nil || len(got.Claims) != 1 || !got.Claims["age_over_18"] || len(got.ClaimSources) != 1 || got.ClaimSources[0].Verifier != verifier.PeerID().String() {
		t.Fatalf("received %+v", got)
	}
	dec, err := service.Decrypt(ctx, priv, res.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(dec[0].Elements) != 1 || dec[0].Elements[0].Type != passport.TypeIdentityCard || !dec[0].Claims["age_over_18"] {
		t.Fatalf("decrypted %+v", dec[0])
	}

	// What it never had: the birth date, the rest of the personal details,
	// or the unsalted digest of them that would confirm a guess.
	pd := personal()
	digest := passport.DataDigest(pd)
	secrets := [][]byte{[]byte(pd.Data["birth_date"]), []byte("1990"), []byte(pd.Data["last_name"]), []byte(hex.EncodeToString(digest[:])), []byte("birth_date")}
	crossed := wire()
	if len(crossed) == 0 || !bytes.Contains(crossed, []byte(res.Nonce)) {
		t.Fatalf("the tap recorded %d bytes without the share", len(crossed))
	}
	for _, sec := range secrets {
		if bytes.Contains(crossed, sec) {
			t.Errorf("%q crossed the wire to the service", sec)
		}
		// Disclosures are base64url: scan them decoded too.
		for _, p := range decodedDisclosures(t, got.ID, service) {
			if strings.Contains(p, string(sec)) {
				t.Errorf("a disclosure holds %q", sec)
			}
		}
	}
	var store bytes.Buffer
	if err := service.space.Iterate(nil, func(k, v []byte) error { store.Write(k); store.Write(v); return nil }); err != nil {
		t.Fatal(err)
	}
	for _, sec := range secrets {
		if bytes.Contains(store.Bytes(), sec) {
			t.Errorf("%q is in the service's store", sec)
		}
	}
}

func decodedDisclosures(t *testing.T, id string, s *Service) []string {
	t.Helper()
	r, err := s.loadReceived(id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range r.Proofs {
		for _, d := range p.Disclosures {
			b, err := base64.RawURLEncoding.DecodeString(d)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, string(b))
		}
	}
	return out
}

func TestClaimsTamperedOrReplayedAreRefused(t *testing.T) {
	ctx := context.Background()
	c := getCluster(t)
	verifier, user, service := c.svc, c.user, c.other
	_, pub := serviceKeys(t)
	a := attestPersonalClaims(t, verifier, user)
	var mine heldAttestation
	hs, err := user.held()
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		if h.a.Signature == a.Signature {
			mine = h
		}
	}
	// Another attestation of the same claims about the same owner, by the
	// same verifier: its disclosures carry other salts.
	other, err := passport.Attest(verifier.id.PeerKey, user.PeerID(), personal(), time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	otherDs, err := other.AddClaims(verifier.id.PeerKey, map[string]bool{"age_over_18": true})
	if err != nil {
		t.Fatal(err)
	}

	const scope = `{"v":1,"data":[{"type":"personal_details","claims":["age_over_18"]}]}`
	request := func() *passport.Request {
		res, err := service.NewRequest(ctx, NewRequestParams{Scope: json.RawMessage(scope), PublicKey: pub})
		if err != nil {
			t.Fatal(err)
		}
		p, err := passport.ParseLink(res.Link)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	present := func(r *passport.Request, ds []string) *passport.ClaimProof {
		p, err := passport.Present(mine.a, ds, []string{"age_over_18"}, user.id.PeerKey, r.ServiceID, r.Nonce, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	// deliver sends a claims-only share for r carrying p, from sender.
	deliver := func(sender *Service, r *passport.Request, p *passport.ClaimProof) error {
		k, _ := passport.ParsePublicKey(pub)
		sh, err := passport.BuildShare(k, r.Nonce, nil, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		data, _ := json.Marshal(sh.Data)
		return sender.send(ctx, service.PeerID(), kindShare, &shareMsg{Nonce: r.Nonce, Data: data, Files: []wireFile{}, Claims: []*passport.ClaimProof{p}}, nil)
	}
	flip := func(d string) string {
		raw, _ := base64.RawURLEncoding.DecodeString(d)
		return base64.RawURLEncoding.EncodeToString(bytes.Replace(raw, []byte("true"), []byte("false"), 1))
	}

	// The genuine proof is accepted: the refusals below are the checks'.
	good := request()
	if err := deliver(user, good, present(good, mine.disclosures)); err != nil {
		t.Fatalf("a genuine claims share: %v", err)
	}
	replayed := present(good, mine.disclosures)

	cases := []struct {
		name   string
		sender *Service
		proof  func(r *passport.Request) *passport.ClaimProof
		want   string
	}{
		{"a disclosure with its value changed", user, func(r *passport.Request) *passport.ClaimProof {
			var ds []string
			for _, d := range mine.disclosures {
				ds = append(ds, flip(d))
			}
			return present(r, ds)
		}, "not among the digests the verifier signed"},
		{"a disclosure from another attestation", user, func(r *passport.Request) *passport.ClaimProof {
			return present(r, otherDs)
		}, "not among the digests the verifier signed"},
		{"a proof replayed on another request", user, func(*passport.Request) *passport.ClaimProof {
			return replayed
		}, "bound to nonce"},
		{"the owner's proof relayed by another peer", verifier, func(r *passport.Request) *passport.ClaimProof {
			return present(r, mine.disclosures)
		}, "but the share came from"},
	}
	for _, tc := range cases {
		r := request()
		err := deliver(tc.sender, r, tc.proof(r))
		if err == nil || !strings.Contains(err.Error(), "claims refused") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a refusal with %q", tc.name, err, tc.want)
			continue
		}
		// The request stays open for a genuine answer.
		if err := deliver(user, r, present(r, mine.disclosures)); err != nil {
			t.Errorf("%s: the genuine share after the refusal: %v", tc.name, err)
		}
	}
}

func TestClaimNotAttestedIsRefusedAtApproval(t *testing.T) {
	ctx := context.Background()
	c := getCluster(t)
	user, service := c.user, c.other
	_, pub := serviceKeys(t)
	// The user has an identity card, but no verifier attested document_valid.
	scope := `{"v":1,"data":[{"type":"identity_card","claims":["document_valid"]},"address"]}`
	res, err := service.NewRequest(ctx, NewRequestParams{Scope: json.RawMessage(scope), PublicKey: pub, To: user.PeerID().String()})
	if err != nil || !res.Delivered {
		t.Fatalf("request: %+v, %v", res, err)
	}
	v := pendingByID(t, user, res.ID)
	if v == nil || len(v.Asks[0].Unattested) != 1 || v.Asks[0].Unattested[0] != passport.ClaimDocumentValid {
		t.Fatalf("pending %+v: want document_valid shown as unattested", v)
	}
	_, err = user.Approve(ctx, res.ID, false)
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "document_valid of your identity_card") || !strings.Contains(err.Error(), "tonmesh passport attest ID identity_card --claims document_valid") {
		t.Fatalf("approve: %v", err)
	}
	if pendingByID(t, user, res.ID) == nil {
		t.Fatal("the refused approval answered the request")
	}
	if _, err := user.Decline(ctx, res.ID); err != nil {
		t.Fatal(err)
	}
}

func TestAttestDocumentValidEndsWithTheDocument(t *testing.T) {
	ctx := context.Background()
	c := getCluster(t)
	verifier, user := c.svc, c.user
	priv, _ := serviceKeys(t)
	id, _ := shareWith(t, verifier, user, `["identity_card"]`, false)
	// A verifier whose attestations last ten years: the card's expiry in
	// 2032 comes first.
	ttl := verifier.cfg.AttestationTTL
	verifier.cfg.AttestationTTL = 10 * 365 * 24 * time.Hour
	defer func() { verifier.cfg.AttestationTTL = ttl }()
	a, err := verifier.AttestClaims(ctx, id, passport.TypeIdentityCard, priv, []string{ClaimsAll})
	if err != nil {
		t.Fatal(err)
	}
	expiry, _ := passport.ParseDate(idCard().Data["expiry_date"])
	if a.ExpiresAt != expiry.Unix() {
		t.Fatalf("attestation expires %s, want the document's expiry %s", time.Unix(a.ExpiresAt, 0).UTC(), expiry)
	}
	if _, err := verifier.AttestClaims(ctx, id, passport.TypeIdentityCard, priv, []string{"age_over_18"}); !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), "derived from personal_details") {
		t.Fatalf("age from an identity card: %v", err)
	}
}

// TestClaimsOverHTTP drives the claims flow through the local API, as the
// CLI and the web app do, and checks the JSON shapes they read.
func TestClaimsOverHTTP(t *testing.T) {
	ctx := context.Background()
	c := getCluster(t)
	vAPI, userAPI := apiClient(t, c.svc), apiClient(t, c.user)
	priv, pub := serviceKeys(t)
	res, err := vAPI.NewRequest(ctx, NewRequestBody{Scope: json.RawMessage(`["personal_details"]`), PublicKey: pub, To: c.user.PeerID().String()})
	if err != nil || !res.Delivered {
		t.Fatalf("request: %+v, %v", res, err)
	}
	if _, err := userAPI.Approve(ctx, res.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := vAPI.AttestClaims(ctx, res.ID, "pd", priv, []string{"age_over_18", "all"}); !apiutil.IsStatus(err, http.StatusBadRequest) || !strings.Contains(err.Error(), "alone") {
		t.Fatalf("all mixed with names: %v", err)
	}
	a, err := vAPI.AttestClaims(ctx, res.ID, "pd", priv, []string{"age_over_18", "resident_of:FR"})
	if err != nil || len(a.Claims) != 2 || !a.Claims["age_over_18"] || a.Claims["resident_of:FR"] || a.Signature == "" {
		t.Fatalf("attest: %+v, %v", a, err)
	}
	held, err := userAPI.Attestations(ctx)
	if err != nil || !slices.ContainsFunc(held, func(h AttestationView) bool {
		return h.Signature == a.Signature && len(h.Claims) == 2 && !h.Claims["resident_of:FR"]
	}) {
		t.Fatalf("attestations: %+v, %v", held, err)
	}

	res, err = vAPI.NewRequest(ctx, NewRequestBody{Scope: json.RawMessage(`{"v":1,"data":[{"type":"pd","claims":["resident_of:FR"]}]}`), PublicKey: pub, To: c.user.PeerID().String()})
	if err != nil || !res.Delivered {
		t.Fatalf("claims request: %+v, %v", res, err)
	}
	pend, err := userAPI.Pending(ctx)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(pend, func(p PendingView) bool { return p.ID == res.ID })
	if i < 0 || len(pend[i].Asks) != 1 || v0(pend[i].Asks[0].Disclose, "resident_of:FR") != "false" {
		t.Fatalf("pending: %+v", pend)
	}
	sum, err := userAPI.Approve(ctx, res.ID, false)
	if err != nil || len(sum.Types) != 0 || v0(sum.Claims, "resident_of:FR") != "false" {
		t.Fatalf("approve: %+v, %v", sum, err)
	}
	recv, err := vAPI.Received(ctx)
	if err != nil {
		t.Fatal(err)
	}
	j := slices.IndexFunc(recv, func(r ReceivedView) bool { return r.ID == res.ID })
	if j < 0 || v0(recv[j].Claims, "resident_of:FR") != "false" || len(recv[j].Types) != 0 {
		t.Fatalf("received: %+v", recv)
	}
}

// v0 renders m[k] as "true", "false" or "absent".
func v0(m map[string]bool, k string) string {
	v, ok := m[k]
	if !ok {
		return "absent"
	}
	return strconv.FormatBool(v)
}

// TestOwnerRefusesBadDisclosures: the owner stores a verifier's
// disclosures only when each matches a digest the verifier signed.
func TestOwnerRefusesBadDisclosures(t *testing.T) {
	ctx := context.Background()
	c := getCluster(t)
	verifier, user := c.svc, c.user
	shareWith(t, verifier, user, `["personal_details"]`, false) // the verifier may attest personal details
	mk := func() (*passport.Attestation, []string) {
		a, err := passport.Attest(verifier.id.PeerKey, user.PeerID(), personal(), time.Now(), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		ds, err := a.AddClaims(verifier.id.PeerKey, map[string]bool{"age_over_18": true})
		if err != nil {
			t.Fatal(err)
		}
		return a, ds
	}
	a, _ := mk()
	_, otherDs := mk()
	plain, err := passport.Attest(verifier.id.PeerKey, user.PeerID(), personal(), time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		msg  *attestationMsg
		want string
	}{
		{"disclosures of another attestation", &attestationMsg{Attestation: a, Disclosures: otherDs}, "not among the digests"},
		{"disclosures with an attestation that signs no claims", &attestationMsg{Attestation: plain, Disclosures: otherDs}, "signs no claims"},
	}
	for _, tc := range cases {
		if err := verifier.send(ctx, user.PeerID(), kindAttestation, tc.msg, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a refusal with %q", tc.name, err, tc.want)
		}
	}
}
