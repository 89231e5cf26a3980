package passport

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/tonmesh/tonmesh/internal/wire"
)

// Every cut of a stream, at any byte, is refused as truncated: a reader
// never takes a transfer cut off by a vanished peer for an element.
func TestDecodeElementFromRefusesEveryCut(t *testing.T) {
	b, err := sample(TypeDriverLicense).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	keep := func(*StreamedFile) error { return nil }
	if _, err := DecodeElementFrom(bytes.NewReader(b), keep); err != nil {
		t.Fatalf("whole element: %v", err)
	}
	for n := range len(b) {
		_, err := DecodeElementFrom(bytes.NewReader(b[:n]), keep)
		if !errors.Is(err, wire.ErrTruncated) {
			t.Fatalf("cut after %d of %d bytes: %v, want an error wrapping wire.ErrTruncated", n, len(b), err)
		}
	}
	if _, err := DecodeElementFrom(bytes.NewReader(append(b, 0)), keep); err == nil {
		t.Fatal("a trailing byte was accepted")
	}
}

// A stream that fails (not one that ends) reports the reader's error, and
// an error of the file callback stops the decoding and is returned.
func TestDecodeElementFromErrors(t *testing.T) {
	b, err := sample(TypeDriverLicense).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	broken := errors.New("link went down")
	r := io.MultiReader(bytes.NewReader(b[:len(b)/2]), iotestErr{broken})
	if _, err := DecodeElementFrom(r, func(*StreamedFile) error { return nil }); !errors.Is(err, broken) {
		t.Fatalf("failing stream: %v, want the reader's error", err)
	}
	full := errors.New("disk full")
	var roles []string
	_, err = DecodeElementFrom(bytes.NewReader(b), func(f *StreamedFile) error {
		roles = append(roles, f.Role)
		return full
	})
	if !errors.Is(err, full) || len(roles) != 1 || roles[0] != "front_side" {
		t.Fatalf("callback error: %v after %v, want the callback's error after front_side", err, roles)
	}
}

type iotestErr struct{ err error }

func (e iotestErr) Read([]byte) (int, error) { return 0, e.err }
