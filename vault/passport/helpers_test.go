package passport

import (
	"bytes"
	"crypto/rsa"
	"os"
	"sync"
	"testing"
)

// jpeg and pdf build small files that sniff as the named type; tag makes
// each one distinct.
func jpeg(tag string) File {
	return File{Name: tag + ".jpg", MIME: MIMEJPEG, Bytes: append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, []byte("jpeg body "+tag)...)}
}

func pdf(tag string) File {
	return File{Name: tag + ".pdf", MIME: MIMEPDF, Bytes: append([]byte("%PDF-1.7\n"), []byte("pdf body "+tag)...)}
}

func filePtr(f File) *File { return &f }

// sample returns a valid element of type t with distinctive values.
func sample(t ElementType) *Element {
	e := &Element{Type: t}
	switch {
	case t == TypePersonalDetails:
		e.Data = map[string]string{
			"first_name": "Ivan", "last_name": "Petrov", "middle_name": "Sergeevich",
			"birth_date": "29.02.1988", "gender": "male", "country_code": "RU", "residence_country_code": "DE",
			"first_name_native": "Иван", "last_name_native": "Петров",
		}
	case t.IsIdentityDocument():
		e.Data = map[string]string{"document_no": "DOC-" + string(t), "expiry_date": "31.12.2031"}
		e.FrontSide = filePtr(jpeg(string(t) + "-front"))
		if schemaOf(t).reverse {
			e.ReverseSide = filePtr(jpeg(string(t) + "-reverse"))
		}
		e.Selfie = filePtr(jpeg(string(t) + "-selfie"))
		e.Translation = []File{pdf(string(t) + "-tr1")}
	case t == TypeAddress:
		e.Data = map[string]string{"street_line1": "Main St 1", "city": "Berlin", "country_code": "DE", "post_code": "10115", "state": "Berlin"}
	case t.IsProofOfAddress():
		e.Files = []File{pdf(string(t) + "-p1"), jpeg(string(t) + "-p2")}
		e.Translation = []File{pdf(string(t) + "-tr")}
	case t == TypePhoneNumber:
		e.Value = "+4915112345678"
	case t == TypeEmail:
		e.Value = "ivan@example.com"
	}
	return e
}

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

// serviceKey is the fixed 2048-bit test key in testdata (generating one
// per fuzz worker is slow).
func serviceKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	keyOnce.Do(func() {
		b, err := os.ReadFile("testdata/service_key.pem")
		if err != nil {
			panic(err)
		}
		if testKey, err = ParsePrivateKey(string(b)); err != nil {
			panic(err)
		}
	})
	return testKey
}

func mustPEM(t testing.TB, k *rsa.PrivateKey) string {
	t.Helper()
	s, err := EncodePublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func containsBytes(hay [][]byte, needle []byte) bool {
	for _, h := range hay {
		if bytes.Contains(h, needle) {
			return true
		}
	}
	return false
}
