package share

import (
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/vault/passport"
)

func newKey(t *testing.T) (crypto.PrivKey, peer.ID) {
	t.Helper()
	k, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return k, id
}

func TestServiceChecksAttachedAttestations(t *testing.T) {
	vkey, _ := newKey(t)
	_, owner := newKey(t)
	_, stranger := newKey(t)
	now := time.Unix(1_900_000_000, 0)
	e := idCard()
	a, err := passport.Attest(vkey, owner, e, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	changed := e.Clone()
	changed.Data["document_no"] = "X"
	cases := []struct {
		name  string
		from  peer.ID
		els   []*passport.Element
		at    time.Time
		valid bool
		want  string
	}{
		{"good", owner, []*passport.Element{e}, now, true, ""},
		{"relayed by another peer", stranger, []*passport.Element{e}, now, false, "about"},
		{"element changed", owner, []*passport.Element{changed}, now, false, "data"},
		{"element absent", owner, []*passport.Element{personal()}, now, false, "holds no"},
		{"expired", owner, []*passport.Element{e}, now.Add(2 * time.Hour), false, "valid from"},
	}
	for _, c := range cases {
		at := c.at
		s := &Service{cfg: Config{Now: func() time.Time { return at }}}
		got := s.checkAttestations(&received{From: c.from.String(), Attestations: []*passport.Attestation{a}}, c.els)
		if len(got) != 1 || got[0].Valid != c.valid || !strings.Contains(got[0].Error, c.want) {
			t.Errorf("%s: %+v", c.name, got)
		}
	}
}
