package seal

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// sealAll seals chunks then a final record carrying trailer.
func sealAll(t *testing.T, rs *ResponseSealer, chunks []string, trailer string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, c := range chunks {
		r, err := rs.Seal([]byte(c))
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		out = append(out, r)
	}
	r, err := rs.Final([]byte(trailer))
	if err != nil {
		t.Fatalf("Final: %v", err)
	}
	return append(out, r)
}

func TestResponseRoundTrip(t *testing.T) {
	ro, rs, _ := roundTrip(t, mustKey(t), []byte("q"))
	chunks := []string{`{"delta":"Once"}`, `{"delta":" upon"}`, ``, `{"delta":" a time"}`}
	records := sealAll(t, rs, chunks, "receipt")
	for i, rec := range records {
		if bytes.Contains(rec, []byte("upon")) {
			t.Fatalf("record %d contains answer text in clear", i)
		}
		kind, payload, err := ro.Open(rec)
		if err != nil {
			t.Fatalf("Open record %d: %v", i, err)
		}
		if i < len(chunks) {
			if kind != RecordData || string(payload) != chunks[i] {
				t.Fatalf("record %d = %v %q, want data %q", i, kind, payload, chunks[i])
			}
			if ro.Done() {
				t.Fatal("Done before the final record")
			}
			continue
		}
		if kind != RecordFinal || string(payload) != "receipt" {
			t.Fatalf("last record = %v %q, want final %q", kind, payload, "receipt")
		}
	}
	if !ro.Done() {
		t.Fatal("not Done after the final record")
	}
	if err := ro.Finish(); err != nil {
		t.Fatalf("Finish after final = %v", err)
	}
	if _, _, err := ro.Open(records[0]); !errors.Is(err, ErrClosed) {
		t.Fatalf("Open after final = %v, want ErrClosed", err)
	}
	if _, err := rs.Seal([]byte("more")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Seal after Final = %v, want ErrClosed", err)
	}
}

func TestResponseErrorRecord(t *testing.T) {
	ro, rs, _ := roundTrip(t, mustKey(t), []byte("q"))
	rec, err := rs.Error("backend: out of memory")
	if err != nil {
		t.Fatal(err)
	}
	kind, payload, err := ro.Open(rec)
	if err != nil || kind != RecordError || string(payload) != "backend: out of memory" {
		t.Fatalf("Open = %v %q %v, want error record with the message", kind, payload, err)
	}
	if !ro.Done() || ro.Finish() != nil {
		t.Fatal("an error record does not end the response")
	}
	ro2, rs2, _ := roundTrip(t, mustKey(t), nil)
	rec, err = rs2.Error(strings.Repeat("é", MaxErrorSize))
	if err != nil {
		t.Fatal(err)
	}
	_, payload, err = ro2.Open(rec)
	if err != nil {
		t.Fatalf("Open of a cut error message: %v", err)
	}
	if len(payload) > MaxErrorSize || !utf8.Valid(payload) {
		t.Fatalf("long error message cut to %d bytes (valid UTF-8: %v), want at most %d valid", len(payload), utf8.Valid(payload), MaxErrorSize)
	}
}

func TestResponseTruncationAndTampering(t *testing.T) {
	type step struct {
		name  string
		alter func(records [][]byte) [][]byte
		want  string // substring of the first error (Open or Finish)
	}
	steps := []step{
		{"final dropped", func(r [][]byte) [][]byte { return r[:len(r)-1] }, ErrTruncated.Error()},
		{"middle record dropped", func(r [][]byte) [][]byte { return append(r[:1:1], r[2:]...) }, "does not open"},
		{"records swapped", func(r [][]byte) [][]byte { r[1], r[2] = r[2], r[1]; return r }, "does not open"},
		{"record replayed", func(r [][]byte) [][]byte { return append(r[:2:2], r[1:]...) }, "does not open"},
		{"ciphertext flipped", func(r [][]byte) [][]byte { r[1][len(r[1])-1] ^= 1; return r }, "does not open"},
		{"kind changed to final", func(r [][]byte) [][]byte { r[1][0] = byte(RecordFinal); return r }, "does not open"},
		{"nonce changed", func(r [][]byte) [][]byte { r[0][5] ^= 1; return r }, "does not open"},
		{"first record lost", func(r [][]byte) [][]byte { return r[1:] }, "no worker nonce"},
		{"nothing at all", func([][]byte) [][]byte { return nil }, ErrTruncated.Error()},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			ro, rs, _ := roundTrip(t, mustKey(t), []byte("q"))
			records := s.alter(sealAll(t, rs, []string{"a", "b", "c"}, ""))
			var first error
			for _, r := range records {
				if _, _, err := ro.Open(r); err != nil {
					first = err
					break
				}
			}
			if first == nil {
				first = ro.Finish()
			}
			if first == nil || !strings.Contains(first.Error(), s.want) {
				t.Fatalf("error = %v, want one containing %q", first, s.want)
			}
			if ro.Finish() == nil {
				t.Fatal("Finish reports success after a failure")
			}
		})
	}
}

func TestResponseFromAnotherRequestDoesNotOpen(t *testing.T) {
	k := mustKey(t)
	ro1, _, _ := roundTrip(t, k, []byte("one"))
	_, rs2, _ := roundTrip(t, k, []byte("two"))
	rec, err := rs2.Seal([]byte("chunk"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ro1.Open(rec); err == nil {
		t.Fatal("a record of another request opened")
	}
}

// TestReplayedRequestGetsFreshResponseKey: a proxy that replays an envelope
// to the worker gets two responses under different keys (the worker nonce),
// so no keystream is reused.
func TestReplayedRequestGetsFreshResponseKey(t *testing.T) {
	k := mustKey(t)
	env, _, err := SealRequest(k.Public(), testMeta(), []byte("q"))
	if err != nil {
		t.Fatal(err)
	}
	_, rs1, err := OpenRequest(k, env, testNow)
	if err != nil {
		t.Fatal(err)
	}
	_, rs2, err := OpenRequest(k, env, testNow)
	if err != nil {
		t.Fatal(err)
	}
	r1, _ := rs1.Seal([]byte("same chunk"))
	r2, _ := rs2.Seal([]byte("same chunk"))
	if bytes.Equal(r1[2+NonceSize:], r2[2+NonceSize:]) {
		t.Fatal("two openings of one envelope sealed the same chunk to the same ciphertext")
	}
}

func TestRecordLimits(t *testing.T) {
	_, rs, _ := roundTrip(t, mustKey(t), nil)
	if _, err := rs.Seal(make([]byte, MaxChunkSize+1)); err == nil {
		t.Error("Seal accepted a chunk over MaxChunkSize")
	}
	rec, err := rs.Seal(make([]byte, MaxChunkSize))
	if err != nil {
		t.Fatalf("Seal of MaxChunkSize: %v", err)
	}
	if len(rec) > MaxRecordSize {
		t.Fatalf("a first record of MaxChunkSize is %d bytes, over MaxRecordSize", len(rec))
	}
	if _, err := rs.Final(make([]byte, MaxTrailerSize+1)); err == nil {
		t.Error("Final accepted a trailer over MaxTrailerSize")
	}
	for name, b := range map[string][]byte{
		"empty":         nil,
		"unknown kind":  append([]byte{9, 0}, make([]byte, tagSize)...),
		"unknown flag":  append([]byte{1, 2}, make([]byte, tagSize)...),
		"short nonce":   append([]byte{1, flagFirst}, make([]byte, NonceSize-1)...),
		"no tag":        {1, 0, 1, 2},
		"over the size": make([]byte, MaxRecordSize+1),
	} {
		if _, err := UnmarshalRecord(b); err == nil {
			t.Errorf("%s: UnmarshalRecord accepted it", name)
		}
	}
}

func ExampleSealRequest() {
	worker, _ := GenerateKey()
	meta := Meta{Model: "m", Worker: "12D3KooW…", RequestID: "r1", KeyExpiry: testNow.Add(time.Hour).Unix()}

	env, opener, _ := SealRequest(worker.Public(), meta, []byte(`{"prompt":"hi"}`))
	body, sealer, _ := OpenRequest(worker, env, testNow) // on the worker
	rec, _ := sealer.Seal([]byte("hello"))
	fin, _ := sealer.Final(nil)

	_, chunk, _ := opener.Open(rec) // on the client
	kind, _, _ := opener.Open(fin)
	fmt.Println(string(body), string(chunk), kind, opener.Finish())
	// Output: {"prompt":"hi"} hello final <nil>
}
