package passport

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"testing"
	"testing/iotest"
	"time"
)

func FuzzUnmarshalElement(f *testing.F) {
	for _, typ := range Types() {
		b, err := sample(typ).Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte{1, 5, 'e', 'm', 'a', 'i', 'l', 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := UnmarshalElement(b)
		in, inErr := UnmarshalElementIn(bytes.Clone(b))
		if (err == nil) != (inErr == nil) {
			t.Fatalf("UnmarshalElement: %v, UnmarshalElementIn: %v", err, inErr)
		}
		if err != nil {
			return
		}
		if inAgain, err := in.Marshal(); err != nil || !bytes.Equal(inAgain, b) {
			t.Fatalf("UnmarshalElementIn's element re-encodes to %x (%v), want %x", inAgain, err, b)
		}
		again, err := e.Marshal()
		if err != nil {
			t.Fatalf("decoded element does not re-encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs:\n in %x\nout %x", b, again)
		}
		if e.Size() != len(b) {
			t.Fatalf("Size %d, encoding %d", e.Size(), len(b))
		}
		var w bytes.Buffer
		if n, err := e.WriteTo(&w); err != nil || n != int64(len(b)) || !bytes.Equal(w.Bytes(), b) {
			t.Fatalf("WriteTo wrote %d bytes (%v), %x, want %x", n, err, w.Bytes(), b)
		}
		_ = e.Validate()
	})
}

func FuzzParseScope(f *testing.F) {
	f.Add([]byte(`{"v":1,"data":["pd",{"one_of":["pp","ic"],"selfie":true},{"type":"ub","translation":true}]}`))
	f.Add([]byte(`["email"]`))
	f.Add([]byte(`{"v":1,"data":[{"one_of":[{"one_of":[]}]}]}`))
	f.Add([]byte(`{"v":1,"data":[{"type":"pd","claims":["age_over_18","resident_of:DE"]},{"one_of":["pp",{"type":"ic","claims":["document_valid"]}],"claims":["document_valid"]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseScope(b)
		if err != nil {
			return
		}
		seen := map[ElementType]bool{}
		for _, typ := range s.Types() {
			if seen[typ] || !typ.Valid() {
				t.Fatalf("accepted scope repeats or invents %q", typ)
			}
			seen[typ] = true
		}
		out, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseScope(out); err != nil {
			t.Fatalf("re-encoded scope %s refused: %v", out, err)
		}
	})
}

func FuzzParseLink(f *testing.F) {
	r := testRequest(f)
	f.Add(r.Link())
	f.Add("tonmesh://passport?service=&scope=%7B%7D")
	f.Add("tonmesh://passport?%zz")
	f.Fuzz(func(t *testing.T, link string) {
		req, err := ParseLink(link)
		if err != nil {
			return
		}
		back, err := ParseLink(req.Link())
		if err != nil || back.Nonce != req.Nonce || back.ServiceID != req.ServiceID {
			t.Fatalf("accepted link does not round-trip: %v", err)
		}
	})
}

func FuzzDecodeRequest(f *testing.F) {
	b, err := testRequest(f).Encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	r := testRequest(f)
	r.Scope = json.RawMessage(`{"v":1,"data":[{"type":"personal_details","claims":["age_over_18"]},{"one_of":["passport","identity_card"],"claims":["document_valid"]}]}`)
	if b, err = r.Encode(); err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"service":"12D3KooW","scope":{},"public_key":"","nonce":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRequest(b)
		if err != nil {
			return
		}
		if _, err := r.Validate(); err != nil {
			t.Fatalf("decoded request fails validation: %v", err)
		}
	})
}

// FuzzDecryptPassportData feeds arbitrary PassportData JSON and file bytes
// to the service-side decryption: it must fail cleanly, never panic.
func FuzzDecryptPassportData(f *testing.F) {
	priv := serviceKey(f)
	sh, err := BuildShare(&priv.PublicKey, "n", []*Element{sample(TypePassport), sample(TypeEmail)}, time.Unix(0, 0))
	if err != nil {
		f.Fatal(err)
	}
	raw, _ := json.Marshal(sh.Data)
	id := sh.Data.Data[0].FrontSide.FileID
	f.Add(raw, id, sh.Files[id])
	f.Add([]byte(`{"data":[{"type":"passport","data":"AAAA","hash":""}],"credentials":{"data":"","hash":"","secret":""}}`), "x", []byte{1})
	f.Fuzz(func(t *testing.T, raw []byte, fileID string, file []byte) {
		var pd PassportData
		if json.Unmarshal(raw, &pd) != nil {
			return
		}
		files := map[string][]byte{fileID: file}
		for k, v := range sh.Files {
			if k != fileID {
				files[k] = v
			}
		}
		_, _ = DecryptPassportData(priv, &pd, files)
	})
}

func FuzzUnmarshalAttestation(f *testing.F) {
	key, _ := testPeer(f, 9)
	_, owner := testPeer(f, 3)
	a, err := Attest(key, owner, sample(TypeIdentityCard), time.Unix(1e9, 0), time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	b, _ := a.Marshal()
	f.Add(b)
	f.Add([]byte(`{"type":"email","files":[{}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := UnmarshalAttestation(b)
		if err != nil {
			return
		}
		_ = a.Verify(time.Unix(1e9, 0))
		_ = a.Covers(sample(a.Type))
	})
}

func FuzzParseDisclosure(f *testing.F) {
	d, err := NewDisclosure("resident_of:DE", false)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(d)
	f.Add("WyJzYWx0IiwiYWdlX292ZXJfMTgiLHRydWVd")
	f.Fuzz(func(t *testing.T, s string) {
		dis, err := ParseDisclosure(s)
		if err != nil {
			return
		}
		if CheckClaimName(dis.Name) != nil {
			t.Fatalf("accepted disclosure names an unsupported claim %q", dis.Name)
		}
	})
}

// FuzzUnmarshalClaimProof feeds arbitrary proofs to the decoder and to
// Verify: they must refuse cleanly, and no change to a genuine proof may
// verify with other claims than it was made with.
func FuzzUnmarshalClaimProof(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	a, ds := claimFixture(f, now)
	hkey, _ := testPeer(f, 3)
	_, svc := testPeer(f, 5)
	p, err := Present(a, ds, []string{"age_over_18", "resident_of:DE"}, hkey, svc, "n", now)
	if err != nil {
		f.Fatal(err)
	}
	b, _ := json.Marshal(p)
	f.Add(b)
	f.Add([]byte(`{"type":"email","claim_digests":["x"],"disclosures":["x"],"key_binding":{}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := UnmarshalClaimProof(b)
		if err != nil {
			return
		}
		claims, err := p.Verify(now, svc, "n")
		if err != nil {
			return
		}
		if len(claims) == 0 || len(claims) > 2 || !claims["age_over_18"] && !claims["resident_of:DE"] {
			t.Fatalf("a changed proof verified with claims %v", claims)
		}
	})
}

// The streamed decoder accepts exactly what UnmarshalElement accepts, and
// hands over the same files, in the same order, whether its callback
// reads them whole, in part or not at all.
func FuzzDecodeElementFrom(f *testing.F) {
	for _, typ := range Types() {
		b, err := sample(typ).Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0))
		f.Add(b[:len(b)-1], uint8(1))
	}
	f.Fuzz(func(t *testing.T, b []byte, mode uint8) {
		want, wantErr := UnmarshalElement(b)
		var files []File
		got, err := DecodeElementFrom(iotest.OneByteReader(bytes.NewReader(b)), func(f *StreamedFile) error {
			limit := int64(f.Size)
			if mode%3 == 1 {
				limit = int64(f.Size / 2)
			} else if mode%3 == 2 {
				limit = 0
			}
			if len(f.Head.allFiles()) != len(files) {
				t.Fatalf("%s: the head shows %d files before it, %d came", f.Role, len(f.Head.allFiles()), len(files))
			}
			data, err := io.ReadAll(io.LimitReader(f.Body, limit))
			files = append(files, File{Name: f.Name, MIME: f.MIME, Bytes: data})
			return err
		})
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("DecodeElementFrom: %v, UnmarshalElement: %v", err, wantErr)
		}
		if err != nil {
			return
		}
		all := want.allFiles()
		if len(all) != len(files) {
			t.Fatalf("%d files streamed, want %d", len(files), len(all))
		}
		for i, w := range all {
			g := files[i]
			if g.Name != w.Name || g.MIME != w.MIME || !bytes.HasPrefix(w.Bytes, g.Bytes) || (mode%3 == 0 && len(g.Bytes) != len(w.Bytes)) {
				t.Fatalf("file %d streamed as %q %q (%d bytes), want %q %q (%d bytes)", i, g.Name, g.MIME, len(g.Bytes), w.Name, w.MIME, len(w.Bytes))
			}
		}
		for _, f := range got.allFiles() {
			if f.Bytes != nil {
				t.Fatalf("the streamed element holds %d bytes of %s", len(f.Bytes), f.Name)
			}
			f.Bytes = nil
		}
		for _, f := range want.allFiles() {
			f.Bytes = nil
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("streamed element %+v, want %+v", got, want)
		}
	})
}

// A streamed validation agrees with decoding the element whole and
// validating it: the same bytes are refused, and the same elements fail
// with the same error.
func FuzzValidateFrom(f *testing.F) {
	for _, typ := range Types() {
		e := sample(typ)
		b, err := e.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		e.Data = map[string]string{"x": "y"}
		if b, err = e.Marshal(); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := ValidateFrom(iotest.OneByteReader(bytes.NewReader(b)))
		e, uerr := UnmarshalElement(b)
		if uerr != nil {
			if err == nil {
				t.Fatalf("ValidateFrom took bytes UnmarshalElement refuses (%v)", uerr)
			}
			return
		}
		verr := e.Validate()
		if (err == nil) != (verr == nil) || err != nil && err.Error() != verr.Error() {
			t.Fatalf("ValidateFrom = %v, Validate = %v", err, verr)
		}
	})
}
