package attest

import (
	"bytes"
	"context"
	"testing"
)

func FuzzUnmarshalEvidence(f *testing.F) {
	quote, _, _ := sampleTDX(f)
	sev, _, _ := sampleSEV(f)
	f.Add(Evidence{Kind: TDX, Quote: quote}.Marshal())
	f.Add(Evidence{Kind: SEVSNP, Quote: sev}.Marshal())
	f.Add(Evidence{Kind: None}.Marshal())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := UnmarshalEvidence(b)
		if err != nil {
			return
		}
		if !bytes.Equal(ev.Marshal(), b) {
			t.Fatal("decoded evidence re-encodes differently")
		}
	})
}

// FuzzVerify feeds the vendor libraries' parsers and verifiers quotes
// derived from the samples: nothing may panic, and nothing changed may
// verify as confidential for claims it was not made for.
func FuzzVerify(f *testing.F) {
	quote, _, _ := sampleTDX(f)
	sev, _, _ := sampleSEV(f)
	f.Add(true, quote)
	f.Add(false, sev)
	f.Add(true, quote[:700])
	f.Add(false, sev[:0x4a0+40])
	panicky := bytes.Clone(quote)
	panicky[0x4c3] = 0x7b // see TestMalformedTDXQuoteDoesNotPanic
	f.Add(true, panicky)
	f.Fuzz(func(t *testing.T, tdx bool, q []byte) {
		ev := Evidence{Kind: SEVSNP, Quote: q}
		if tdx {
			ev.Kind = TDX
		}
		res, err := Verify(context.Background(), ev, testClaims(), Policy{Now: sampleTime, AllowDebug: true})
		if err == nil {
			t.Fatalf("fuzzed evidence verified: %+v", res)
		}
	})
}
