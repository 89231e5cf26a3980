package p2p

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
)

// fixedKey is a deterministic key so fuzz seeds are stable.
func fixedKey(t testing.TB) crypto.PrivKey {
	t.Helper()
	k, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{42}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func FuzzUnmarshalRecord(f *testing.F) {
	priv := fixedKey(f)
	for _, v := range [][]byte{nil, []byte("value"), bytes.Repeat([]byte{0xff}, 300)} {
		rec := resign(f, priv, &SignedRecord{Namespace: "vault", Key: "k/1", Seq: 3, Expires: time.Unix(1<<40, 0), Value: v})
		b := mustMarshal(f, rec)
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte{1})
	f.Add([]byte{1, 0x80, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := UnmarshalRecord(b)
		if err != nil {
			return
		}
		// Every accepted input has exactly one encoding.
		again, err := rec.Marshal()
		if err != nil {
			t.Fatalf("decoded record does not re-encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs:\n in %x\nout %x", b, again)
		}
		_ = rec.Verify() // must not panic
	})
}

func FuzzReadFrame(f *testing.F) {
	var buf bytes.Buffer
	_ = WriteFrame(&buf, []byte("hello"))
	f.Add(buf.Bytes(), 16)
	f.Add(buf.Bytes(), 2)
	f.Add(binary.AppendUvarint(nil, 1<<62), DefaultMaxFrame)
	f.Add([]byte{0x80, 0x80, 0x80}, 100)
	f.Add([]byte{0}, 0)
	f.Fuzz(func(t *testing.T, in []byte, max int) {
		if max < 0 || max > 1<<20 {
			max = 1 << 10
		}
		r := bytes.NewReader(in)
		got, err := ReadFrame(r, max)
		if err != nil {
			if errors.Is(err, ErrFrameTooLarge) && len(in)-r.Len() > binary.MaxVarintLen64 {
				t.Fatalf("read %d bytes before refusing an oversize frame", len(in)-r.Len())
			}
			return
		}
		if len(got) > max {
			t.Fatalf("frame of %d bytes exceeds limit %d", len(got), max)
		}
		var out bytes.Buffer
		if err := WriteFrame(&out, got); err != nil {
			t.Fatal(err)
		}
		consumed := in[:len(in)-r.Len()]
		if !bytes.Equal(out.Bytes(), consumed) {
			t.Fatalf("frame does not re-encode to the bytes it was read from")
		}
		if _, err := ReadFrame(bytes.NewReader(nil), max); err != io.EOF {
			t.Fatalf("empty input: %v, want io.EOF", err)
		}
	})
}

func FuzzDecodeEnvelope(f *testing.F) {
	f.Add(encodeEnvelope(time.UnixMilli(1_700_000_000_000), []byte("payload")), 64)
	f.Add(encodeEnvelope(time.UnixMilli(1), nil), 0)
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 1, 0x80, 0x00}, 8)
	f.Add([]byte("not an envelope"), 100)
	f.Fuzz(func(t *testing.T, b []byte, max int) {
		if max < 0 || max > 1<<20 {
			max = 1 << 10
		}
		env, err := decodeEnvelope(b, max)
		if err != nil {
			return
		}
		if len(env.Payload) > max {
			t.Fatalf("payload of %d bytes exceeds limit %d", len(env.Payload), max)
		}
		if again := encodeEnvelope(env.Sent, env.Payload); !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs:\n in %x\nout %x", b, again)
		}
	})
}
