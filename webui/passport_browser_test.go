package webui_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tonmesh/tonmesh/vault/passport"
)

// fillForm sets the add/replace form's fields.
func fillForm(fields map[string]string) chromedp.Action[chromedp.Void] {
	var steps []chromedp.Action[chromedp.Void]
	for k, v := range fields {
		steps = append(steps, chromedp.SetValue(chromedp.CSS(`#element-form input[name="`+k+`"]`), v))
	}
	return chromedp.Steps(steps...)
}

// testPassport: on node 3's page the user adds personal details (after a
// refused birth date shown next to its field) and a passport with its
// scan; node 1, a service, asks for both; the consent screen lists
// exactly the fields and files asked; approving delivers a share that the
// service decrypts to what the user typed and uploaded. A request opened
// from a tonmesh:// link is declined.
func testPassport(t *testing.T, b *browser) {
	const user = 2
	details := map[string]string{"first_name": "Ada", "last_name": "Lovelace", "birth_date": "31.02.1815",
		"gender": "female", "country_code": "GB", "residence_country_code": "GB"}
	b.open(t, user, "/ui/passport?type=personal_details")
	b.do(t, user, "send personal details with an impossible birth date", fillForm(details),
		chromedp.Click(chromedp.CSS(`#element-form button`)),
		chromedp.WaitVisible(chromedp.CSS(`#element-form .field-error[data-field="birth_date"]`)))
	if v := run(t, b, user, "read first_name back", chromedp.Value(chromedp.CSS(`#element-form input[name="first_name"]`))); v != "Ada" {
		t.Fatalf("the refused form lost first_name: %q", v)
	}
	details["birth_date"] = "10.12.1815"
	b.do(t, user, "send personal details", fillForm(details),
		chromedp.Click(chromedp.CSS(`#element-form button`)), chromedp.WaitVisible(chromedp.CSS(`#added`)))
	// The replace form shows what is stored.
	if v := run(t, b, user, "read the stored birth date", chromedp.Value(chromedp.CSS(`#element-form input[name="birth_date"]`))); v != "10.12.1815" {
		t.Fatalf("the replace form shows birth_date %q, want the stored 10.12.1815", v)
	}

	scan := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte("webui-scan "), 3000)...)
	scanPath := filepath.Join(t.TempDir(), "passport.jpg")
	if err := os.WriteFile(scanPath, scan, 0o600); err != nil {
		t.Fatal(err)
	}
	b.open(t, user, "/ui/passport?type=passport")
	b.do(t, user, "send a passport without its scan",
		fillForm(map[string]string{"document_no": "X1234567", "expiry_date": "01.01.2035"}),
		chromedp.Click(chromedp.CSS(`#element-form button`)),
		chromedp.WaitVisible(chromedp.CSS(`#element-form .field-error[data-field="front_side"]`)))
	b.do(t, user, "send the passport with its scan",
		fillForm(map[string]string{"document_no": "X1234567", "expiry_date": "01.01.2035"}),
		chromedp.SetUploadFiles(chromedp.CSS(`#element-form input[name="front_side"]`), []string{scanPath}),
		chromedp.Click(chromedp.CSS(`#element-form button`)), chromedp.WaitVisible(chromedp.CSS(`#added`)))
	b.waitJS(t, user, "both documents with every shard reachable",
		`document.querySelectorAll('#elements .element td.ok').length === 2`)
	b.do(t, user, "wait for the event stream", chromedp.WaitVisible(chromedp.CSS(`#live[data-state="open"]`)))
	b.mark(t, user) // from here on, the page is never reloaded

	// The service asks for both.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
	privPEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	service := b.c.Client(t, 0)
	var req struct {
		Delivered bool   `json:"delivered"`
		Error     string `json:"error"`
	}
	if err := service.Post(context.Background(), "/api/v1/passport/requests/new", map[string]any{
		"scope": json.RawMessage(`{"v":1,"data":["personal_details","passport"]}`), "public_key": pubPEM, "to": b.ids[user].PeerID,
	}, &req); err != nil || !req.Delivered {
		t.Fatalf("the service's request: %+v, %v", req, err)
	}
	b.waitJS(t, user, "the request on the consent screen", `document.querySelector('#consent .request') !== null`)
	var pending []struct {
		Asks []struct {
			Type   string   `json:"type"`
			Fields []string `json:"fields"`
			Files  []string `json:"files"`
		} `json:"asks"`
	}
	if err := b.c.Client(t, user).Get(context.Background(), "/api/v1/passport/requests", &pending); err != nil || len(pending) != 1 {
		t.Fatalf("pending requests: %+v, %v", pending, err)
	}
	shown := run(t, b, user, "read the consent screen", chromedp.Evaluate[string](`JSON.stringify(
		Array.from(document.querySelectorAll('#consent .request .ask')).map(a => ({
			type: a.dataset.type,
			fields: Array.from(a.querySelectorAll('.field')).map(f => f.textContent),
			files: Array.from(a.querySelectorAll('.file')).map(f => f.textContent)})))`))
	var asks []struct {
		Type   string   `json:"type"`
		Fields []string `json:"fields"`
		Files  []string `json:"files"`
	}
	if err := json.Unmarshal([]byte(shown), &asks); err != nil {
		t.Fatal(err)
	}
	if len(asks) != len(pending[0].Asks) {
		t.Fatalf("the consent screen shows %+v, the request asks %+v", asks, pending[0].Asks)
	}
	for i, a := range asks {
		want := pending[0].Asks[i]
		if a.Type != want.Type || !slices.Equal(a.Fields, want.Fields) || !slices.Equal(a.Files, nonNil(want.Files)) {
			t.Fatalf("consent screen entry %d: %+v, the request asks %+v", i, a, want)
		}
	}
	if asks[0].Type != "personal_details" || slices.Contains(asks[0].Fields, "first_name_native") ||
		asks[1].Type != "passport" || !slices.Equal(asks[1].Files, []string{"front_side"}) {
		t.Fatalf("consent screen: %+v (no native names, no selfie were asked)", asks)
	}
	b.do(t, user, "approve", chromedp.Click(chromedp.CSS(`#consent .request .approve button`)))
	b.waitJS(t, user, "the share in the history", `document.querySelectorAll('#shares .share').length === 1 && document.querySelector('#no-requests') !== null`)

	var got []struct {
		ID       string              `json:"id"`
		Elements []*passport.Element `json:"elements"`
		Error    string              `json:"error"`
	}
	eventually(t, "the service decrypts the share", func(ctx context.Context) error {
		if err := service.Post(ctx, "/api/v1/passport/received/decrypt", map[string]string{"private_key": privPEM}, &got); err != nil {
			return err
		}
		if len(got) != 1 {
			return fmt.Errorf("%d shares received", len(got))
		}
		return nil
	})
	if got[0].Error != "" || len(got[0].Elements) != 2 {
		t.Fatalf("decrypted share: %+v", got[0])
	}
	for _, e := range got[0].Elements {
		switch e.Type {
		case passport.TypePersonalDetails:
			if e.Data["first_name"] != "Ada" || e.Data["birth_date"] != "10.12.1815" {
				t.Errorf("decrypted personal details: %v", e.Data)
			}
		case passport.TypePassport:
			if e.Data["document_no"] != "X1234567" || e.FrontSide == nil || !bytes.Equal(e.FrontSide.Bytes, scan) {
				t.Errorf("decrypted passport: %v, scan identical: %v", e.Data, e.FrontSide != nil && bytes.Equal(e.FrontSide.Bytes, scan))
			}
		default:
			t.Errorf("the share holds %s, which was not asked", e.Type)
		}
	}

	// A request opened from its link, declined.
	var linked struct {
		Link string `json:"link"`
	}
	if err := service.Post(context.Background(), "/api/v1/passport/requests/new", map[string]any{
		"scope": json.RawMessage(`{"v":1,"data":["personal_details"]}`), "public_key": pubPEM}, &linked); err != nil {
		t.Fatal(err)
	}
	b.do(t, user, "open the request link",
		chromedp.SetValue(chromedp.CSS(`#open-link input[name="link"]`), linked.Link),
		chromedp.Click(chromedp.CSS(`#open-link button`)))
	b.waitJS(t, user, "the linked request on the consent screen", `document.querySelectorAll('#consent .request').length === 1`)
	b.do(t, user, "decline", chromedp.Click(chromedp.CSS(`#consent .request .decline button`)))
	b.waitJS(t, user, "no request left", `document.querySelector('#no-requests') !== null`)
	b.noReload(t, user)
	b.screenshots(t, "passport")
	testClaims(t, b, user, got[0].ID, privPEM, pubPEM)
}

// testClaims: node 1, having received the user's personal details, attests
// them with claims; the user's page lists the attestation; node 2, another
// service, asks only for age_over_18, and the consent screen shows that
// claim with the value it would disclose and the verifier; approving gives
// node 2 age_over_18 = true and no birth date.
func testClaims(t *testing.T, b *browser, user int, shareID, privPEM, pubPEM string) {
	ctx := context.Background()
	verifier, service := b.c.Client(t, 0), b.c.Client(t, 1)
	var att struct {
		Claims map[string]bool `json:"claims"`
	}
	if err := verifier.Post(ctx, "/api/v1/passport/received/"+shareID+"/attest", map[string]any{
		"type": "personal_details", "private_key": privPEM, "claims": []string{"all"}}, &att); err != nil || !att.Claims["age_over_18"] {
		t.Fatalf("attest with claims: %+v, %v", att, err)
	}
	b.open(t, user, "/ui/passport")
	b.waitJS(t, user, "the attestation with its claims", `document.querySelector('.attestation[data-type="personal_details"] .claim[data-claim="age_over_18"]') !== null`)
	b.mark(t, user)

	var req struct {
		Delivered bool `json:"delivered"`
	}
	if err := service.Post(ctx, "/api/v1/passport/requests/new", map[string]any{
		"scope":      json.RawMessage(`{"v":1,"data":[{"type":"personal_details","claims":["age_over_18"]}]}`),
		"public_key": pubPEM, "to": b.ids[user].PeerID,
	}, &req); err != nil || !req.Delivered {
		t.Fatalf("the claims request: %+v, %v", req, err)
	}
	b.waitJS(t, user, "the claims request on the consent screen", `document.querySelector('#consent .request .ask .claim') !== null`)
	claim := run(t, b, user, "read the claim shown", chromedp.Text(chromedp.CSS(`#consent .request .ask .claim[data-claim="age_over_18"]`)))
	ask := run(t, b, user, "read the ask", chromedp.Text(chromedp.CSS(`#consent .request .ask`)))
	if claim != "age_over_18 = yes" || !strings.Contains(ask, "nothing else of your personal_details") || strings.Contains(ask, "birth_date") {
		t.Fatalf("the consent screen shows %q (claim %q); want age_over_18 = yes, the verifier, no fields", ask, claim)
	}
	b.do(t, user, "approve the claims", chromedp.Click(chromedp.CSS(`#consent .request .approve button`)))
	var recv []struct {
		Claims       map[string]bool `json:"claims"`
		PassportData json.RawMessage `json:"passport_data"`
	}
	eventually(t, "the service gets the claim", func(ctx context.Context) error {
		if err := service.Get(ctx, "/api/v1/passport/received", &recv); err != nil {
			return err
		}
		if len(recv) != 1 {
			return fmt.Errorf("%d shares received", len(recv))
		}
		return nil
	})
	if !recv[0].Claims["age_over_18"] || len(recv[0].Claims) != 1 {
		t.Fatalf("the service received claims %v, want age_over_18 = true only", recv[0].Claims)
	}
	var dec []struct {
		Elements []*passport.Element `json:"elements"`
	}
	if err := service.Post(ctx, "/api/v1/passport/received/decrypt", map[string]string{"private_key": privPEM}, &dec); err != nil {
		t.Fatal(err)
	}
	if raw, _ := json.Marshal(dec); bytes.Contains(raw, []byte("1815")) || bytes.Contains(raw, []byte("Lovelace")) {
		t.Fatalf("the claims share carries personal data: %s", raw)
	}
	b.noReload(t, user)
	b.screenshots(t, "claims")
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
