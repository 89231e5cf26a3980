package p2p

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/libp2p/go-libp2p/core/protocol"
)

func TestFrameRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	payloads := [][]byte{{}, []byte("hello"), bytes.Repeat([]byte{7}, smallFrame+1), bytes.Repeat([]byte{9}, 300)}
	for _, p := range payloads {
		if err := WriteFrame(&buf, p); err != nil {
			t.Fatal(err)
		}
	}
	for i, want := range payloads {
		got, err := ReadFrame(&buf, DefaultMaxFrame)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("frame %d: got %d bytes, want %d", i, len(got), len(want))
		}
	}
	if _, err := ReadFrame(&buf, DefaultMaxFrame); err != io.EOF {
		t.Fatalf("reading past the last frame: %v, want io.EOF", err)
	}
}

// countingReader fails the test if more than limit bytes are read.
type countingReader struct {
	r     io.Reader
	read  int
	limit int
	t     *testing.T
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += n
	if c.read > c.limit {
		c.t.Fatalf("read %d bytes, more than the %d-byte header", c.read, c.limit)
	}
	return n, err
}

func TestReadFrameRefusesOversizeBeforeReading(t *testing.T) {
	hdr := binary.AppendUvarint(nil, 1<<40)
	r := &countingReader{r: io.MultiReader(bytes.NewReader(hdr), zeroReader{}), limit: len(hdr), t: t}
	_, err := ReadFrame(r, DefaultMaxFrame)
	if !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("err = %v, want ErrFrameTooLarge", err)
	}
	// Exactly at the limit is fine; one over is not.
	var buf bytes.Buffer
	if err := WriteFrame(&buf, make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFrame(bytes.NewReader(buf.Bytes()), 10); err != nil {
		t.Fatalf("frame at the limit refused: %v", err)
	}
	if _, err := ReadFrame(bytes.NewReader(buf.Bytes()), 9); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("frame over the limit: %v, want ErrFrameTooLarge", err)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestReadFrameMalformed(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		want error // nil: any error
	}{
		{"truncated header", []byte{0x80}, io.ErrUnexpectedEOF},
		{"truncated payload", []byte{5, 'a', 'b'}, io.ErrUnexpectedEOF},
		{"non-minimal length", []byte{0x81, 0x00, 'a'}, nil},
		{"varint overflow", bytes.Repeat([]byte{0xff}, 11), nil},
	}
	for _, c := range cases {
		_, err := ReadFrame(bytes.NewReader(c.in), DefaultMaxFrame)
		if err == nil || err == io.EOF {
			t.Errorf("%s: err = %v, want a decode error", c.name, err)
			continue
		}
		if c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := ReadFrame(bytes.NewReader([]byte{1, 'a'}), -1); err == nil {
		t.Error("negative limit accepted")
	}
}

func TestProtocolIDs(t *testing.T) {
	if p := ProtocolID("vault", "shard", "1.0.0"); p != "/tonmesh/vault/shard/1.0.0" || checkProtocolID(p) != nil {
		t.Fatalf("ProtocolID = %q", p)
	}
	for _, bad := range []string{"/ipfs/kad/1.0.0", "/tonmesh/vault/shard", "/tonmesh/vault//1", "tonmesh/a/b/c", "/tonmesh/a/b/c/d"} {
		if checkProtocolID(protocol.ID(bad)) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
