package passport

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// specDecrypt follows the public Telegram Passport specification step by
// step ("Decrypting data"), using nothing of the package's decryption code:
// it works on the raw JSON a service receives.
type specDecrypt struct {
	t     *testing.T
	priv  *rsa.PrivateKey
	files map[string][]byte
}

func (d specDecrypt) b64(s string) []byte {
	d.t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		d.t.Fatalf("base64 %q: %v", s, err)
	}
	return b
}

// open: key/IV from SHA512(secret ‖ hash), AES-256-CBC decrypt, check
// SHA256(plaintext) == hash, strip the padding whose length is byte 0.
func (d specDecrypt) open(ct, hash, secret []byte) []byte {
	d.t.Helper()
	if len(secret) != 32 {
		d.t.Fatalf("secret is %d bytes", len(secret))
	}
	sum := 0
	for _, b := range secret {
		sum += int(b)
	}
	if sum%255 != 239 {
		d.t.Fatalf("secret byte sum %% 255 = %d, the spec requires 239", sum%255)
	}
	digest := sha512.Sum512(append(append([]byte{}, secret...), hash...))
	block, err := aes.NewCipher(digest[:32])
	if err != nil {
		d.t.Fatal(err)
	}
	plain := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, digest[32:48]).CryptBlocks(plain, ct)
	if h := sha256.Sum256(plain); !bytes.Equal(h[:], hash) {
		d.t.Fatal("SHA-256 of the decrypted data does not match the hash")
	}
	padLen := int(plain[0])
	if padLen < 32 || padLen > 255 || len(plain)%16 != 0 {
		d.t.Fatalf("padding length %d / total %d breaks the spec", padLen, len(plain))
	}
	return plain[padLen:]
}

type specCreds struct {
	SecureData map[string]map[string]json.RawMessage `json:"secure_data"`
	Nonce      string                                `json:"nonce"`
}

// run decrypts a PassportData JSON document and returns, per element type,
// the decrypted data fields, value and files by role.
func (d specDecrypt) run(raw []byte, wantNonce string) map[string]specElement {
	d.t.Helper()
	var pd struct {
		Data        []map[string]json.RawMessage `json:"data"`
		Credentials struct{ Data, Hash, Secret string }
	}
	if err := json.Unmarshal(raw, &pd); err != nil {
		d.t.Fatal(err)
	}
	// 1. Decrypt the credentials secret with the bot's private key (OAEP).
	credSecret, err := rsa.DecryptOAEP(sha1.New(), nil, d.priv, d.b64(pd.Credentials.Secret), nil)
	if err != nil {
		d.t.Fatalf("OAEP: %v", err)
	}
	// 2-5. Decrypt the credentials, check the hash, strip padding, read JSON.
	var creds specCreds
	if err := json.Unmarshal(d.open(d.b64(pd.Credentials.Data), d.b64(pd.Credentials.Hash), credSecret), &creds); err != nil {
		d.t.Fatal(err)
	}
	// 6. Check the nonce.
	if creds.Nonce != wantNonce {
		d.t.Fatalf("nonce %q, want %q", creds.Nonce, wantNonce)
	}
	out := map[string]specElement{}
	for _, el := range pd.Data {
		var typ string
		json.Unmarshal(el["type"], &typ)
		se := specElement{Fields: map[string]string{}, Files: map[string][][]byte{}}
		for k := range el {
			se.Keys = append(se.Keys, k)
		}
		sort.Strings(se.Keys)
		sd := creds.SecureData[typ]
		if raw, ok := el["data"]; ok {
			var ct string
			json.Unmarshal(raw, &ct)
			var dc struct{ DataHash, Secret string }
			json.Unmarshal(sd["data"], &struct {
				DataHash *string `json:"data_hash"`
				Secret   *string `json:"secret"`
			}{&dc.DataHash, &dc.Secret})
			if err := json.Unmarshal(d.open(d.b64(ct), d.b64(dc.DataHash), d.b64(dc.Secret)), &se.Fields); err != nil {
				d.t.Fatal(err)
			}
		}
		for _, k := range []string{"phone_number", "email"} {
			if raw, ok := el[k]; ok {
				json.Unmarshal(raw, &se.Value)
			}
		}
		for _, role := range []string{"front_side", "reverse_side", "selfie", "files", "translation"} {
			raw, ok := el[role]
			if !ok {
				continue
			}
			type pf struct {
				FileID string `json:"file_id"`
			}
			type fc struct {
				FileHash string `json:"file_hash"`
				Secret   string `json:"secret"`
			}
			var pfs []pf
			var fcs []fc
			if role == "files" || role == "translation" {
				json.Unmarshal(raw, &pfs)
				json.Unmarshal(sd[role], &fcs)
			} else {
				var one pf
				var c fc
				json.Unmarshal(raw, &one)
				json.Unmarshal(sd[role], &c)
				pfs, fcs = []pf{one}, []fc{c}
			}
			if len(pfs) != len(fcs) {
				d.t.Fatalf("%s %s: %d files, %d credentials", typ, role, len(pfs), len(fcs))
			}
			for i := range pfs {
				se.Files[role] = append(se.Files[role], d.open(d.files[pfs[i].FileID], d.b64(fcs[i].FileHash), d.b64(fcs[i].Secret)))
			}
		}
		out[typ] = se
	}
	return out
}

type specElement struct {
	Keys   []string // JSON keys of the EncryptedPassportElement
	Fields map[string]string
	Value  string
	Files  map[string][][]byte
}

func TestShareDecryptsBySpecAndHoldsOnlyWhatWasAsked(t *testing.T) {
	priv := serviceKey(t)
	owned := map[ElementType]*Element{}
	for _, typ := range Types() {
		owned[typ] = sample(typ)
	}
	delete(owned, TypePassport) // so one_of falls through to identity_card
	scope, err := ParseScope([]byte(`{"v":1,"data":["personal_details",
		{"one_of":["passport","identity_card"],"selfie":true},
		{"type":"utility_bill","translation":true},"phone_number"]}`))
	if err != nil {
		t.Fatal(err)
	}
	elements, missing := SelectElements(scope, owned)
	if len(missing) != 0 {
		t.Fatalf("missing %v", missing)
	}
	sh, err := BuildShare(&priv.PublicKey, "nonce-42", elements, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(sh.Data)
	if err != nil {
		t.Fatal(err)
	}
	got := specDecrypt{t: t, priv: priv, files: sh.Files}.run(raw, "nonce-42")

	var types []string
	for k := range got {
		types = append(types, k)
	}
	sort.Strings(types)
	if want := []string{"identity_card", "personal_details", "phone_number", "utility_bill"}; !reflect.DeepEqual(types, want) {
		t.Fatalf("shared types %v, want %v", types, want)
	}
	// personal_details: every field but the native names.
	pd := owned[TypePersonalDetails]
	wantPD := map[string]string{}
	for k, v := range pd.Data {
		if !strings.HasSuffix(k, "_native") {
			wantPD[k] = v
		}
	}
	if !reflect.DeepEqual(got["personal_details"].Fields, wantPD) {
		t.Errorf("personal_details fields %v, want %v", got["personal_details"].Fields, wantPD)
	}
	// identity_card: data, both sides and the selfie; no translation.
	ic := got["identity_card"]
	if !reflect.DeepEqual(ic.Fields, owned[TypeIdentityCard].Data) {
		t.Errorf("identity_card fields %v", ic.Fields)
	}
	wantFiles := map[string][][]byte{
		"front_side":   {owned[TypeIdentityCard].FrontSide.Bytes},
		"reverse_side": {owned[TypeIdentityCard].ReverseSide.Bytes},
		"selfie":       {owned[TypeIdentityCard].Selfie.Bytes},
	}
	if !reflect.DeepEqual(ic.Files, wantFiles) {
		t.Errorf("identity_card files %q, want %q", ic.Files, wantFiles)
	}
	if want := []string{"data", "front_side", "hash", "reverse_side", "selfie", "type"}; !reflect.DeepEqual(ic.Keys, want) {
		t.Errorf("identity_card element keys %v, want %v", ic.Keys, want)
	}
	// utility_bill: pages and translation, as asked.
	ub := got["utility_bill"]
	if len(ub.Files["files"]) != 2 || len(ub.Files["translation"]) != 1 || len(ub.Fields) != 0 {
		t.Errorf("utility_bill %+v", ub)
	}
	if !bytes.Equal(ub.Files["files"][1], owned[TypeUtilityBill].Files[1].Bytes) {
		t.Error("utility_bill page 2 differs")
	}
	if got["phone_number"].Value != owned[TypePhoneNumber].Value {
		t.Errorf("phone %q", got["phone_number"].Value)
	}
	// Nothing of the elements not asked for, nor of the parts left out,
	// appears anywhere, encrypted or not (the secrets are fresh, so a
	// plaintext match is the only way to find them).
	blobs := [][]byte{raw}
	for _, b := range sh.Files {
		blobs = append(blobs, b)
	}
	for _, needle := range []string{
		owned[TypeAddress].Data["street_line1"], owned[TypeEmail].Value, "Иван",
		string(owned[TypeDriverLicense].Data["document_no"]), "identity_card-tr1",
	} {
		if containsBytes(blobs, []byte(needle)) {
			t.Errorf("share contains %q", needle)
		}
	}
	// Files: 3 identity_card + 3 utility_bill; no others delivered.
	if len(sh.Files) != 6 {
		t.Errorf("%d files delivered, want 6", len(sh.Files))
	}
}

func TestNativeNamesOnlyWhenAsked(t *testing.T) {
	priv := serviceKey(t)
	owned := map[ElementType]*Element{TypePersonalDetails: sample(TypePersonalDetails)}
	scope, _ := ParseScope([]byte(`{"v":1,"data":[{"type":"personal_details","native_names":true}]}`))
	els, _ := SelectElements(scope, owned)
	sh, err := BuildShare(&priv.PublicKey, "n", els, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(sh.Data)
	got := specDecrypt{t: t, priv: priv, files: sh.Files}.run(raw, "n")
	if got["personal_details"].Fields["first_name_native"] != "Иван" {
		t.Fatalf("native names missing: %v", got["personal_details"].Fields)
	}
}

func TestPackageDecryptMatchesAndDetectsTampering(t *testing.T) {
	priv := serviceKey(t)
	els := []*Element{sample(TypeDriverLicense), sample(TypeAddress), sample(TypeEmail)}
	sh, err := BuildShare(&priv.PublicKey, "abc", els, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	dec, err := DecryptPassportData(priv, sh.Data, sh.Files)
	if err != nil {
		t.Fatal(err)
	}
	if dec.Nonce != "abc" || len(dec.Elements) != 3 {
		t.Fatalf("decrypted %+v", dec)
	}
	for i, e := range dec.Elements {
		// File names become file IDs; compare everything else.
		for _, f := range e.allFiles() {
			f.Name = ""
		}
		want := els[i].Clone()
		for _, f := range want.allFiles() {
			f.Name = ""
		}
		if !reflect.DeepEqual(e, want) {
			t.Errorf("element %d: got %+v\nwant %+v", i, e, want)
		}
	}
	// A flipped byte in a file is detected by its hash.
	id := sh.Data.Data[0].FrontSide.FileID
	orig := sh.Files[id]
	sh.Files[id] = append([]byte{orig[0] ^ 1}, orig[1:]...)
	if _, err := DecryptPassportData(priv, sh.Data, sh.Files); err == nil || !strings.Contains(err.Error(), "hash mismatch") {
		t.Fatalf("tampered file: %v", err)
	}
	sh.Files[id] = orig
	// Another key cannot open the credentials.
	other, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DecryptPassportData(other, sh.Data, sh.Files); err == nil {
		t.Fatal("decrypted with the wrong key")
	}
}

func TestSecretsFollowTheRule(t *testing.T) {
	for range 2000 {
		s, err := NewSecret()
		if err != nil {
			t.Fatal(err)
		}
		if !ValidSecret(s) {
			t.Fatalf("secret %x breaks the byte-sum rule", s)
		}
	}
	if ValidSecret(make([]byte, 32)) {
		t.Fatal("all-zero secret accepted")
	}
}

func TestPaddingBounds(t *testing.T) {
	for n := range 100 {
		p, err := pad(make([]byte, n))
		if err != nil {
			t.Fatal(err)
		}
		l := int(p[0])
		if l < 32 || l > 255 || len(p)%16 != 0 || len(p)-l != n {
			t.Fatalf("data %d: padding %d, total %d", n, l, len(p))
		}
	}
}
