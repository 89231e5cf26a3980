package chat

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/chat/ratchet"
)

// sendRaw sends raw bytes over MsgProtocol from s to p and decodes the answer.
func sendRaw(t *testing.T, s *Service, p peer.ID, raw []byte) *response {
	t.Helper()
	resp, err := s.net.Request(context.Background(), p, MsgProtocol, raw, 1024)
	if err != nil {
		t.Fatal(err)
	}
	r, err := decodeResponse(resp, 0)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// testReplaysAndForgeries runs on a cluster where a and b have talked.
func testReplaysAndForgeries(t *testing.T, a, b, c *Service) {
	ctx := context.Background()
	env, raw, _, durable, err := a.seal(ctx, b.self, content{Kind: kindText, Text: "captured"}, 0)
	if err == nil {
		err = durable()
	}
	if err != nil {
		t.Fatal(err)
	}
	if r := sendRaw(t, a, b.self, raw); r.Status != statusOK {
		t.Fatalf("first delivery: status %d %s", r.Status, r.Reason)
	}
	count := func() int { return len(texts(t, b, a.self)) }
	before, dups, rejected := count(), b.stats.duplicates.Load(), b.stats.rejected.Load()

	// Replay by the sender's stream: a duplicate, stored once.
	if r := sendRaw(t, a, b.self, raw); r.Status != statusDuplicate {
		t.Fatalf("replay: status %d, want duplicate", r.Status)
	}
	// Replay by a third party: refused (direct messages come from their sender).
	if r := sendRaw(t, c, b.self, raw); r.Status != statusRejected {
		t.Fatalf("replay by another peer: status %d, want rejected", r.Status)
	}
	// The captured ciphertext no longer opens with b's current session keys.
	sessions, err := b.loadSessions(a.self)
	if err != nil || len(sessions) == 0 {
		t.Fatalf("b's sessions with a: %v", err)
	}
	if _, err := sessions[0].Decrypt(env.Body, env.ad()); !errors.Is(err, ratchet.ErrDuplicate) {
		t.Fatalf("old message with the current session = %v, want ErrDuplicate", err)
	}

	// Tampered body, signature left as is: a forgery.
	bad := append([]byte(nil), raw...)
	bad[len(bad)-sigLen-5] ^= 1
	if r := sendRaw(t, a, b.self, bad); r.Status != statusRejected {
		t.Fatalf("tampered envelope: status %d, want rejected", r.Status)
	}
	// The captured body under a fresh ID, re-signed by its sender: its key
	// is gone, so it is a duplicate and is not stored again.
	moved := *env
	if moved.ID, err = newMsgID(); err != nil {
		t.Fatal(err)
	}
	movedRaw, err := moved.seal(a.id.PeerKey)
	if err != nil {
		t.Fatal(err)
	}
	if r := sendRaw(t, a, b.self, movedRaw); r.Status != statusDuplicate {
		t.Fatalf("captured ciphertext under a new header: status %d, want duplicate", r.Status)
	}
	// A fresh ciphertext moved under another header (new ID, re-signed):
	// the ratchet's authentication, bound to the header, refuses it, and the
	// session is unchanged, so the genuine envelope still goes through.
	fresh, freshRaw, _, durable, err := a.seal(ctx, b.self, content{Kind: kindText, Text: "fresh"}, 0)
	if err == nil {
		err = durable()
	}
	if err != nil {
		t.Fatal(err)
	}
	movedFresh := *fresh
	movedFresh.TTL = time.Hour
	movedFreshRaw, err := movedFresh.seal(a.id.PeerKey)
	if err != nil {
		t.Fatal(err)
	}
	if r := sendRaw(t, a, b.self, movedFreshRaw); r.Status != statusRejected {
		t.Fatalf("fresh ciphertext under another header: status %d, want rejected", r.Status)
	}
	// The genuine envelope with its signature spoiled: its body would open,
	// yet it is refused as a forgery, charges no conversation, and leaves
	// the session as it was.
	metaBefore, _, err := b.loadMeta(a.self)
	if err != nil {
		t.Fatal(err)
	}
	badSig := append([]byte(nil), freshRaw...)
	badSig[len(badSig)-1] ^= 1
	if r := sendRaw(t, a, b.self, badSig); r.Status != statusRejected {
		t.Fatalf("genuine envelope with a spoiled signature: status %d, want rejected", r.Status)
	}
	metaAfter, _, err := b.loadMeta(a.self)
	if err != nil {
		t.Fatal(err)
	}
	if metaAfter.Rejected != metaBefore.Rejected {
		t.Fatalf("a spoiled signature charged the conversation: %d rejected before, %d after", metaBefore.Rejected, metaAfter.Rejected)
	}
	if r := sendRaw(t, a, b.self, freshRaw); r.Status != statusOK {
		t.Fatalf("genuine envelope after the forgery: status %d %s", r.Status, r.Reason)
	}
	before++
	// c signs an envelope claiming to be a.
	forged := &envelope{Sender: a.self, Recipient: b.self, ID: moved.ID, Sent: env.Sent, Body: env.Body}
	forgedRaw, err := forged.seal(c.id.PeerKey)
	if err != nil {
		t.Fatal(err)
	}
	if r := sendRaw(t, c, b.self, forgedRaw); r.Status != statusRejected {
		t.Fatalf("envelope signed by another key: status %d, want rejected", r.Status)
	}
	if r := sendRaw(t, a, b.self, forgedRaw); r.Status != statusRejected {
		t.Fatalf("envelope signed by another key, sent by the claimed sender: status %d, want rejected", r.Status)
	}

	if n := count(); n != before {
		t.Fatalf("b stored %d messages after replays and forgeries, want %d", n, before)
	}
	if got := b.stats.duplicates.Load() - dups; got != 2 {
		t.Errorf("duplicates counted = %d, want 2", got)
	}
	if got := b.stats.rejected.Load() - rejected; got != 6 {
		t.Errorf("rejections counted = %d, want 6", got)
	}
	in, err := b.Inbox()
	if err != nil {
		t.Fatal(err)
	}
	if in.Rejected < 5 || in.Duplicates < 1 {
		t.Errorf("inbox counters = %d rejected, %d duplicates", in.Rejected, in.Duplicates)
	}
	for _, cv := range in.Conversations {
		if cv.Peer == a.self.String() && cv.Rejected == 0 {
			t.Errorf("conversation with a shows no rejected message: %+v", cv)
		}
	}
	// The session still works after all that.
	if m, err := a.Send(ctx, b.self, "still fine", 0); err != nil || m.Status != StatusDelivered {
		t.Fatalf("send after forgeries: %+v, %v", m, err)
	}
}

// testMailboxAuthorization checks that holders answer and delete only on
// the right signatures.
func testMailboxAuthorization(t *testing.T, a, b, c *Service) {
	ctx := context.Background()
	env, raw, _, durable, err := a.seal(ctx, c.self, content{Kind: kindText, Text: "for c only"}, 0)
	if err == nil {
		err = durable()
	}
	if err != nil {
		t.Fatal(err)
	}
	put := (&mailboxReq{Op: opPut, Envelope: raw}).body()
	if r, err := a.mailboxRequest(ctx, b.self, put, opPut); err != nil || r.Status != statusOK {
		t.Fatalf("put: %+v, %v", r, err)
	}
	// c cannot put a's envelope; nobody but c fetches c's mailbox.
	if r, err := c.mailboxRequest(ctx, b.self, put, opPut); err != nil || r.Status != statusRejected {
		t.Fatalf("put of another's envelope: %+v, %v", r, err)
	}
	fetch, err := (&mailboxReq{Op: opFetch, Owner: c.self, Signer: c.self, At: time.Now()}).encodeSigned(a.id.PeerKey)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := a.mailboxRequest(ctx, b.self, fetch, opFetch); err != nil || r.Status != statusRejected {
		t.Fatalf("fetch of c's mailbox signed by a: %+v, %v", r, err)
	}
	stale, err := (&mailboxReq{Op: opFetch, Owner: c.self, Signer: c.self, At: time.Now().Add(-time.Hour)}).encodeSigned(c.id.PeerKey)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := c.mailboxRequest(ctx, b.self, stale, opFetch); err != nil || r.Status != statusRejected {
		t.Fatalf("stale fetch: %+v, %v", r, err)
	}
	// A delete signed by someone who neither owns the mailbox nor sent the
	// item deletes nothing; the sender's own delete works.
	del := func(signer *Service) uint64 {
		req, err := (&mailboxReq{Op: opDelete, Signer: signer.self, Owner: c.self, At: time.Now(), IDs: []MsgID{env.ID}}).encodeSigned(signer.id.PeerKey)
		if err != nil {
			t.Fatal(err)
		}
		r, err := signer.mailboxRequest(ctx, b.self, req, opDelete)
		if err != nil || r.Status != statusOK {
			t.Fatalf("delete signed by %s: %+v, %v", signer.self, r, err)
		}
		return r.Count
	}
	if heldCount(t, b) != 1 {
		t.Fatal("b does not hold the item")
	}
	// A signer who neither owns the mailbox nor sent the item (here the
	// holder itself, as the network would not route b's request to b).
	if n, err := b.holdDelete(b.self, c.self, []MsgID{env.ID}); err != nil || n != 0 || heldCount(t, b) != 1 {
		t.Fatalf("third party's delete removed %d (%v), want 0", n, err)
	}
	if n := del(c); n != 1 {
		t.Fatalf("owner's delete removed %d, want 1", n)
	}
	if r, err := a.mailboxRequest(ctx, b.self, put, opPut); err != nil || r.Status != statusOK {
		t.Fatalf("put again: %+v, %v", r, err)
	}
	if n := del(a); n != 1 || heldCount(t, b) != 0 {
		t.Fatalf("sender's delete removed %d (held now %d), want 1 and 0", n, heldCount(t, b))
	}
}
