package share

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/vault/passport"
)

// shareWith runs request → approve from service to user and returns the
// request ID.
func shareWith(t *testing.T, service, user *Service, scope string, attach bool) (string, *ShareSummary) {
	t.Helper()
	ctx := context.Background()
	_, pub := serviceKeys(t)
	res, err := service.NewRequest(ctx, NewRequestParams{Scope: json.RawMessage(scope), PublicKey: pub, To: user.PeerID().String()})
	if err != nil || !res.Delivered {
		t.Fatalf("new request: %+v, %v", res, err)
	}
	sum, err := user.Approve(ctx, res.ID, attach)
	if err != nil {
		t.Fatalf("approve: %v", err)
	}
	return res.ID, sum
}

func TestElementErrorsFlowBack(t *testing.T) {
	ctx := context.Background()
	c := getCluster(t)
	id, _ := shareWith(t, c.svc, c.user, `{"v":1,"data":[{"type":"identity_card","selfie":true}]}`, false)
	priv, _ := serviceKeys(t)
	dec, err := c.svc.Decrypt(ctx, priv, id)
	if err != nil {
		t.Fatal(err)
	}
	var pd passport.PassportData
	recv, _ := c.svc.Received()
	i := slices.IndexFunc(recv, func(v ReceivedView) bool { return v.ID == id })
	if err := json.Unmarshal(recv[i].PassportData, &pd); err != nil {
		t.Fatal(err)
	}
	errs := []passport.PassportElementError{
		{Source: passport.SourceSelfie, Type: passport.TypeIdentityCard, FileHash: "c2VsZmll", Message: "The face is not visible"},
		{Source: passport.SourceUnspecified, Type: passport.TypeIdentityCard, ElementHash: pd.Data[0].Hash, Message: "Expired"},
	}
	if len(dec[0].Elements) != 1 {
		t.Fatalf("decrypted %+v", dec)
	}
	if err := c.svc.SendErrors(ctx, id, errs); err != nil {
		t.Fatal(err)
	}
	reports, err := c.user.Errors()
	if err != nil {
		t.Fatal(err)
	}
	j := slices.IndexFunc(reports, func(r ErrorReport) bool { return r.ID == id })
	if j < 0 || reports[j].Service != c.svc.PeerID().String() || len(reports[j].Errors) != 2 || reports[j].Errors[1].ElementHash != pd.Data[0].Hash {
		t.Fatalf("user sees %+v", reports)
	}
	// An invalid error is refused before sending.
	bad := []passport.PassportElementError{{Source: passport.SourceReverseSide, Type: passport.TypePassport, FileHash: "x", Message: "?"}}
	if err := c.svc.SendErrors(ctx, id, bad); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("invalid error sent: %v", err)
	}
	// A node the user never shared with cannot send errors about the share.
	var nonce string
	for _, r := range recv {
		if r.ID == id {
			nonce = r.Nonce
		}
	}
	err = c.other.send(ctx, c.user.PeerID(), kindErrors, &errorsMsg{Nonce: nonce, Errors: errs}, nil)
	if err == nil || !strings.Contains(err.Error(), "no share was made") {
		t.Fatalf("errors from a stranger: %v", err)
	}
}

func TestAttestationFlow(t *testing.T) {
	ctx := context.Background()
	c := getCluster(t)
	verifier, owner, relying := c.svc, c.user, c.other
	priv, _ := serviceKeys(t)

	// The verifier receives the identity card and attests it.
	id, _ := shareWith(t, verifier, owner, `{"v":1,"data":[{"type":"identity_card","selfie":true},"pd"]}`, false)
	if _, err := verifier.Attest(ctx, id, passport.TypeIdentityCard, ""); !errors.Is(err, ErrConflict) {
		t.Fatalf("attest before decrypting: %v", err)
	}
	if _, err := verifier.Attest(ctx, id, passport.TypeAddress, priv); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("attest a type not shared: %v", err)
	}
	a, err := verifier.Attest(ctx, id, passport.TypeIdentityCard, priv)
	if err != nil {
		t.Fatal(err)
	}
	if a.Subject != owner.PeerID().String() || a.Verifier != verifier.PeerID().String() {
		t.Fatalf("attestation %+v", a)
	}
	held, _ := owner.Attestations()
	if !slices.ContainsFunc(held, func(h AttestationView) bool { return h.Signature == a.Signature }) {
		t.Fatalf("owner holds %+v", held)
	}
	// An attestation for a type never shared with the sender is refused.
	forged, err := passport.AttestDigests(relying.id.PeerKey, owner.PeerID(), passport.TypeAddress, a.DataDigest, nil, verifier.cfg.Now(), a2h())
	if err != nil {
		t.Fatal(err)
	}
	if err := relying.send(ctx, owner.PeerID(), kindAttestation, &attestationMsg{Attestation: forged}, nil); err == nil {
		t.Fatal("owner accepted an attestation from a node it shared nothing with")
	}

	// A second service asks for the card without selfie; the owner attaches
	// the attestation, which still covers the projected element.
	// (The cluster is shared by the package's tests: with -count=N the owner
	// holds one attestation of the card per run, and attaches them all.)
	cards := 0
	for _, h := range held {
		if h.Type == passport.TypeIdentityCard {
			cards++
		}
	}
	id2, sum := shareWith(t, relying, owner, `{"v":1,"data":["identity_card"]}`, true)
	if sum.Attestations != cards || cards == 0 {
		t.Fatalf("summary %+v, want the %d attestations of the card attached", sum, cards)
	}
	dec, err := relying.Decrypt(ctx, priv, id2)
	if err != nil {
		t.Fatal(err)
	}
	checks := dec[0].Attestations
	byVerifier := slices.ContainsFunc(checks, func(c AttestationCheck) bool { return c.Verifier == verifier.PeerID().String() })
	if len(checks) != cards || !byVerifier || slices.ContainsFunc(checks, func(c AttestationCheck) bool { return !c.Valid }) {
		t.Fatalf("attestation checks %+v, want %d valid ones, one by the verifier %s", checks, cards, verifier.PeerID())
	}
	// Without asking, none is attached.
	id3, sum := shareWith(t, relying, owner, `["identity_card"]`, false)
	if sum.Attestations != 0 {
		t.Fatalf("attached without being asked: %+v", sum)
	}
	// Digests saved at decrypt time let the relying service attest later
	// without the key.
	if _, err := relying.Decrypt(ctx, priv, id3); err != nil {
		t.Fatal(err)
	}
	if _, err := relying.Attest(ctx, id3, passport.TypeIdentityCard, ""); err != nil {
		t.Fatalf("attest from saved digests: %v", err)
	}
}

func a2h() time.Duration { return time.Hour }
