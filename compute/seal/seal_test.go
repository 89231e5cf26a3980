package seal

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

var testNow = time.Unix(1_800_000_000, 0)

func testMeta() Meta {
	return Meta{
		Model:     "stories260K",
		Worker:    "12D3KooWExampleWorker",
		RequestID: "req-1",
		KeyExpiry: testNow.Add(time.Hour).Unix(),
		Stream:    true,
	}
}

func mustKey(t testing.TB) *PrivateKey {
	t.Helper()
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// roundTrip seals body to k, passes the envelope through its encoding and
// opens it.
func roundTrip(t *testing.T, k *PrivateKey, body []byte) (*ResponseOpener, *ResponseSealer, []byte) {
	t.Helper()
	env, ro, err := SealRequest(k.Public(), testMeta(), body)
	if err != nil {
		t.Fatalf("SealRequest: %v", err)
	}
	got, err := UnmarshalEnvelope(env.Marshal())
	if err != nil {
		t.Fatalf("UnmarshalEnvelope: %v", err)
	}
	if got.Meta != env.Meta {
		t.Fatalf("meta after decoding = %+v, want %+v", got.Meta, env.Meta)
	}
	plain, rs, err := OpenRequest(k, got, testNow)
	if err != nil {
		t.Fatalf("OpenRequest: %v", err)
	}
	return ro, rs, plain
}

func TestRequestRoundTrip(t *testing.T) {
	k := mustKey(t)
	body := []byte(`{"model":"stories260K","messages":[{"role":"user","content":"secret prompt"}]}`)
	_, _, plain := roundTrip(t, k, body)
	if !bytes.Equal(plain, body) {
		t.Fatalf("opened body = %q, want %q", plain, body)
	}
	env, _, err := SealRequest(k.Public(), testMeta(), body)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(env.Marshal(), []byte("secret prompt")) {
		t.Fatal("the envelope contains the prompt in clear")
	}
}

func TestKeyPersistence(t *testing.T) {
	k := mustKey(t)
	k2, err := ParsePrivateKey(k.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k2.Public(), k.Public()) {
		t.Fatal("a parsed private key has another public key")
	}
	env, _, err := SealRequest(k.Public(), testMeta(), []byte("hi"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := OpenRequest(k2, env, testNow); err != nil {
		t.Fatalf("parsed key does not open: %v", err)
	}
	if _, err := ParsePrivateKey(k.Bytes()[:31]); err == nil {
		t.Fatal("a short private key parsed")
	}
	if _, _, err := SealRequest([]byte("short"), testMeta(), nil); err == nil {
		t.Fatal("sealing to a short public key worked")
	}
}

func TestOpenRequestRefuses(t *testing.T) {
	k := mustKey(t)
	seal := func() *Envelope {
		env, _, err := SealRequest(k.Public(), testMeta(), []byte("body"))
		if err != nil {
			t.Fatal(err)
		}
		return env
	}
	cases := []struct {
		name    string
		mutate  func(*Envelope)
		key     *PrivateKey
		now     time.Time
		wantErr error
	}{
		{"expired key", func(*Envelope) {}, k, testNow.Add(2 * time.Hour), ErrKeyExpired},
		{"expiry exactly now", func(*Envelope) {}, k, time.Unix(testMeta().KeyExpiry, 0), ErrKeyExpired},
		{"expiry moved later", func(e *Envelope) { e.Meta.KeyExpiry += 3600 }, k, testNow, ErrOpen},
		{"model changed", func(e *Envelope) { e.Meta.Model = "gpt-4" }, k, testNow, ErrOpen},
		{"worker changed", func(e *Envelope) { e.Meta.Worker = "other" }, k, testNow, ErrOpen},
		{"request ID changed", func(e *Envelope) { e.Meta.RequestID = "req-2" }, k, testNow, ErrOpen},
		{"stream flag changed", func(e *Envelope) { e.Meta.Stream = false }, k, testNow, ErrOpen},
		{"ciphertext changed", func(e *Envelope) { e.Ciphertext[0] ^= 1 }, k, testNow, ErrOpen},
		{"enc changed", func(e *Envelope) { e.Enc[3] ^= 1 }, k, testNow, ErrOpen},
		{"other key", func(*Envelope) {}, mustKey(t), testNow, ErrOpen},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := seal()
			tc.mutate(env)
			body, rs, err := OpenRequest(tc.key, env, tc.now)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("OpenRequest error = %v, want %v", err, tc.wantErr)
			}
			if body != nil || rs != nil {
				t.Fatal("a refused request still returned a body or sealer")
			}
		})
	}
}

func TestSealRequestValidatesMeta(t *testing.T) {
	k := mustKey(t)
	for name, m := range map[string]Meta{
		"no model":     {Worker: "w", RequestID: "r", KeyExpiry: 1},
		"no worker":    {Model: "m", RequestID: "r", KeyExpiry: 1},
		"no request":   {Model: "m", Worker: "w", KeyExpiry: 1},
		"no expiry":    {Model: "m", Worker: "w", RequestID: "r"},
		"long model":   {Model: strings.Repeat("m", MaxMetaField+1), Worker: "w", RequestID: "r", KeyExpiry: 1},
		"negative exp": {Model: "m", Worker: "w", RequestID: "r", KeyExpiry: -5},
	} {
		if _, _, err := SealRequest(k.Public(), m, nil); err == nil {
			t.Errorf("%s: SealRequest accepted %+v", name, m)
		}
	}
	big := make([]byte, MaxEnvelopeSize)
	if _, _, err := SealRequest(k.Public(), testMeta(), big); err == nil {
		t.Error("SealRequest accepted a body that makes an envelope over the limit")
	}
}

func TestMetaMarshalIsInjective(t *testing.T) {
	a := Meta{Model: "ab", Worker: "c", RequestID: "d", KeyExpiry: 5}
	b := Meta{Model: "a", Worker: "bc", RequestID: "d", KeyExpiry: 5}
	if bytes.Equal(a.Marshal(), b.Marshal()) {
		t.Fatal("metas with shifted field boundaries encode the same")
	}
	if !bytes.Equal(a.Marshal(), a.Marshal()) {
		t.Fatal("Marshal is not deterministic")
	}
}

func TestUnmarshalEnvelopeStrict(t *testing.T) {
	k := mustKey(t)
	env, _, err := SealRequest(k.Public(), testMeta(), []byte("body"))
	if err != nil {
		t.Fatal(err)
	}
	good := env.Marshal()
	cases := map[string][]byte{
		"empty":          nil,
		"trailing byte":  append(append([]byte(nil), good...), 0),
		"truncated":      good[:len(good)-1],
		"bad version":    append([]byte{9}, good[1:]...),
		"over the limit": make([]byte, MaxEnvelopeSize+1),
	}
	short := *env
	short.Enc = env.Enc[:16]
	cases["short enc"] = short.Marshal()
	noTag := *env
	noTag.Ciphertext = env.Ciphertext[:tagSize-1]
	cases["no tag"] = noTag.Marshal()
	noModel := *env
	noModel.Meta.Model = ""
	cases["meta without model"] = noModel.Marshal()
	for name, b := range cases {
		if _, err := UnmarshalEnvelope(b); err == nil {
			t.Errorf("%s: UnmarshalEnvelope accepted it", name)
		}
	}
}
