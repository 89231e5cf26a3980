package wallet

import (
	"bytes"
	"context"
	"testing"

	"github.com/tonmesh/tonmesh/p2p/identity"
)

// An order signed on one node and relayed to the chain by another executes
// once; the signer's own SubmitOrder then reports it as done, not refused.
func TestSignedOrderRelayedByAnother(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice, bob := newWallet(t, e.chain, nil, identity.V5R1), newWallet(t, e.chain, nil, identity.V5R1)
	fund(t, e.chain, alice.Address(), tons(10))

	o, err := alice.SignOrder(ctx, bob.Address(), tons(1), nil, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.Seqno != 0 || !o.Deployed || len(o.BOC) == 0 {
		t.Fatalf("order: %+v", o)
	}
	relayed, err := e.chain.SendExternal(ctx, o.BOC) // the relay, as a market peer would
	if err != nil {
		t.Fatalf("relay: %v", err)
	}
	r, err := alice.SubmitOrder(ctx, o)
	if err != nil {
		t.Fatalf("submit after relay: %v", err)
	}
	if !bytes.Equal(r.MsgHash, relayed) || r.Seqno != 0 || len(r.Sent) != 1 {
		t.Fatalf("receipt %+v, relayed hash %x", r, relayed)
	}
	if got := incoming(history(t, e.chain, bob.Address()), alice.Address()); len(got) != 1 {
		t.Fatalf("bob received %d transfers, want exactly 1", len(got))
	}

	// A second submission of the same order is not a second payment.
	if _, err := alice.SubmitOrder(ctx, o); err != nil {
		t.Fatalf("resubmit: %v", err)
	}
	if got := incoming(history(t, e.chain, bob.Address()), alice.Address()); len(got) != 1 {
		t.Fatalf("bob received %d transfers after a resubmission, want 1", len(got))
	}
}
