package attest

import (
	"fmt"

	"github.com/tonmesh/tonmesh/internal/wire"
)

// Kind names an attestation technology.
type Kind string

// The kinds.
const (
	TDX    Kind = "tdx"
	SEVSNP Kind = "sev-snp"
	// None is no attestation: development networks only, NOT confidential.
	None Kind = "none"
)

// MaxQuoteSize bounds Evidence.Quote (a TDX quote with its PCK chain is
// about 5 KiB; an SEV-SNP report with VCEK, ASK and ARK about 6 KiB).
const MaxQuoteSize = 64 << 10

const evidenceVersion = 1

// Evidence is what a worker publishes next to its claims.
type Evidence struct {
	Kind Kind
	// Quote is the raw TDX quote, or the raw SEV-SNP attestation report
	// followed by its certificate table; empty for None.
	Quote []byte
}

func (k Kind) valid() bool { return k == TDX || k == SEVSNP || k == None }

// Marshal encodes e: a version byte, the kind and the quote, each
// length-prefixed (uvarint).
func (e Evidence) Marshal() []byte {
	b := []byte{evidenceVersion}
	b = wire.AppendLenPrefixed(b, []byte(e.Kind))
	return wire.AppendLenPrefixed(b, e.Quote)
}

// UnmarshalEvidence decodes evidence written by Marshal. It refuses an
// unknown version or kind, a quote over MaxQuoteSize, a quote with kind
// None, non-canonical lengths and trailing bytes. The result does not
// alias b.
func UnmarshalEvidence(b []byte) (Evidence, error) {
	rd := wire.NewReader(b)
	if v := rd.Byte("evidence version"); rd.Err() == nil && v != evidenceVersion {
		return Evidence{}, fmt.Errorf("attest: evidence version %d is not supported (want %d): update tonmesh", v, evidenceVersion)
	}
	kind := Kind(rd.LenPrefixed("evidence kind", 16))
	quote := rd.LenPrefixed("evidence quote", MaxQuoteSize)
	if err := rd.Finish(); err != nil {
		return Evidence{}, fmt.Errorf("attest: evidence does not decode: %w", err)
	}
	if !kind.valid() {
		return Evidence{}, fmt.Errorf("attest: evidence kind %q is unknown (want tdx, sev-snp or none)", kind)
	}
	if kind == None && len(quote) != 0 {
		return Evidence{}, fmt.Errorf("attest: evidence of kind none carries a %d-byte quote", len(quote))
	}
	e := Evidence{Kind: kind}
	if len(quote) > 0 {
		e.Quote = append([]byte(nil), quote...)
	}
	return e, nil
}
