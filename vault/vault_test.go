package vault

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/tonmesh/tonmesh/internal/apiutil"
	"github.com/tonmesh/tonmesh/vault/passport"
	"github.com/tonmesh/tonmesh/vault/shard"
)

// One network of eight peers (identities are slow to derive under -race,
// so the scenarios share it, in order): an owner and seven peers that may
// hold shards (k=4, n=6).
//
//  1. A passport with a 5 MB scan and personal details are stored on six
//     distinct peers, read back intact, and no store holds them in clear.
//  2. A corrupted shard is found by the audit and rebuilt on a new peer.
//  3. A holder that left is kept while briefly away and replaced by the
//     audit once it stayed away for Config.ReplaceAfter.
//  4. Two more holders and the owner's node go away; a fresh node with the
//     same mnemonic restores the vault from the DHT and reads both elements
//     back byte for byte.
//  5. The API on the fresh node: list, read, holders, audit with too few
//     peers, errors that name the fix, delete (the holders drop the shards).
//  6. The manifest survives a restart of the node.
func TestVaultScenario(t *testing.T) {
	ctx := context.Background()
	top := t // nodes started inside a step must outlive it
	// Hedging delays stretched: a read asks exactly the holders it must.
	ns := startNodes(t, 8, Config{hedgeScale: 1000})
	owner := ns[1]
	const docNo = "ZX-PLAINTEXT-7731"
	const firstName = "Quetzalcoatlina"
	scan := passportElement(t, docNo, 5<<20)
	pd := personalDetails(firstName)
	var fresh *node

	step := steps(t)
	step("add and read", func(t *testing.T) {
		info, err := owner.v.Add(ctx, scan)
		if err != nil {
			t.Fatal(err)
		}
		if info.Type != passport.TypePassport || info.K != 4 || info.N != 6 || info.Reachable != 6 || info.Size < 5<<20 {
			t.Fatalf("Add = %+v", info)
		}
		if _, err := owner.v.Add(ctx, pd); err != nil {
			t.Fatal(err)
		}
		hs := checkHolders(t, owner, passport.TypePassport, 6)
		if peerIDs(hs)[owner.Net.ID().String()] != 0 {
			t.Fatal("the owner holds one of its own shards")
		}
		reads := owner.v.shardReads.Load()
		got, err := owner.v.Element(ctx, passport.TypePassport)
		if err != nil {
			t.Fatal(err)
		}
		sameElement(t, got, scan)
		if n := owner.v.shardReads.Load() - reads; n != 4 {
			t.Fatalf("a read with every holder up asked %d holders, want k = 4", n)
		}
		types, _ := owner.v.Types(ctx)
		if !slices.Equal(types, []passport.ElementType{passport.TypePassport, passport.TypePersonalDetails}) {
			t.Fatalf("Types = %v", types)
		}
	})
	step("no plaintext at rest", func(t *testing.T) {
		marker := []byte("vault-test-marker-5c1f0e")
		space, err := ns[0].Store.Space("vault-test")
		if err != nil {
			t.Fatal(err)
		}
		if err := space.Set([]byte("k"), marker); err != nil {
			t.Fatal(err)
		}
		var dirs []string
		for _, n := range ns {
			dirs = append(dirs, n.dir)
		}
		if hits := findInFiles(t, dirs, marker); len(hits) == 0 {
			t.Fatal("the scan does not see a value written in the clear: it proves nothing")
		}
		piece := scan.FrontSide.Bytes[3<<20 : 3<<20+64]
		if hits := findInFiles(t, dirs, []byte(docNo), []byte(firstName), piece); len(hits) > 0 {
			t.Fatalf("plaintext found at rest in %s", strings.Join(hits, ", "))
		}
	})
	step("corrupt shard is rebuilt on a new peer", func(t *testing.T) {
		before := checkHolders(t, owner, passport.TypePassport, 6)
		i, x := pickHolder(t, ns, before, ns[0])
		if err := x.v.holder.CorruptForTest(cid.MustParse(before[i].CID)); err != nil {
			t.Fatal(err)
		}
		// A read fails that shard's CID check and asks one holder more.
		reads := owner.v.shardReads.Load()
		got, err := owner.v.Element(ctx, passport.TypePassport)
		if err != nil {
			t.Fatal(err)
		}
		sameElement(t, got, scan)
		if n := owner.v.shardReads.Load() - reads; i >= 4 || n != 5 {
			t.Fatalf("a read with data shard %d corrupt asked %d holders, want k+1 = 5", i, n)
		}
		rep, err := owner.v.Audit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		item := itemOf(t, rep, passport.TypePassport)
		if item.Lost != 1 || item.Repaired != 1 || item.Error != "" {
			t.Fatalf("audit after corrupting shard %d: %+v", i, item)
		}
		after := checkHolders(t, owner, passport.TypePassport, 6)
		if after[i].Peer == x.Net.ID().String() || after[i].CID != before[i].CID {
			t.Fatalf("shard %d: %+v, want the same CID on another peer than %s", i, after[i], x.Net.ID())
		}
	})
	step("departed holder is replaced once it stayed away", func(t *testing.T) {
		before := checkHolders(t, owner, passport.TypePassport, 6)
		i, y := pickHolder(t, ns, before, ns[0])
		y.stop()
		// Five of six shards pass, the default threshold (k+1): a holder
		// that is only briefly away is not replaced...
		owner.v.cfg.ReplaceAfter = time.Hour
		rep, err := owner.v.Audit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if item := itemOf(t, rep, passport.TypePassport); item.Unreachable != 1 || item.Repaired != 0 || item.Error != "" {
			t.Fatalf("first audit after holder %d left: %+v, want it unreachable and kept", i, item)
		}
		hs, err := owner.v.Holders(ctx, passport.TypePassport)
		if err != nil {
			t.Fatal(err)
		}
		if hs[i].Peer != y.Net.ID().String() || hs[i].AwaySince.IsZero() || !hs[(i+1)%6].AwaySince.IsZero() {
			t.Fatalf("holders after the first audit: %+v, want shard %d away since the audit, the others not", hs, i)
		}
		// ...and one away for ReplaceAfter is.
		owner.v.cfg.ReplaceAfter = time.Nanosecond
		rep, err = owner.v.Audit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if item := itemOf(t, rep, passport.TypePassport); item.Unreachable != 1 || item.Repaired != 1 || item.Error != "" {
			t.Fatalf("audit once holder %d stayed away: %+v", i, item)
		}
		after := checkHolders(t, owner, passport.TypePassport, 6)
		if peerIDs(after)[y.Net.ID().String()] != 0 {
			t.Fatalf("the departed holder still holds a shard: %+v", after)
		}
		if after[i].CID != before[i].CID || !after[i].AwaySince.IsZero() {
			t.Fatalf("shard %d after the repair: %+v", i, after[i])
		}
		checkHolders(t, owner, passport.TypePersonalDetails, 6)
		owner.v.cfg.ReplaceAfter = time.Hour
	})
	step("restore on a fresh node with two holders down", func(t *testing.T) {
		hs := checkHolders(t, owner, passport.TypePassport, 6)
		for range 2 {
			_, z := pickHolder(t, ns, hs, ns[0])
			z.stop()
		}
		owner.stop()
		fresh = joinNode(top, ns[0], sameIdentity(t, owner), Config{})
		if fresh.Net.ID() != owner.Net.ID() {
			t.Fatal("the same mnemonic gave another peer ID")
		}
		if _, err := fresh.v.Element(ctx, passport.TypePassport); !errors.Is(err, ErrNotFound) {
			t.Fatalf("before restore: Element = %v, want ErrNotFound", err)
		}
		res, err := fresh.v.Restore(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Replaced || len(res.Elements) != 2 {
			t.Fatalf("Restore = %+v, want 2 elements replacing the empty manifest", res)
		}
		got, err := fresh.v.Element(ctx, passport.TypePassport)
		if err != nil {
			t.Fatal(err)
		}
		sameElement(t, got, scan)
		gotPD, err := fresh.v.Element(ctx, passport.TypePersonalDetails)
		if err != nil {
			t.Fatal(err)
		}
		sameElement(t, gotPD, pd)
	})
	step("API", func(t *testing.T) { testAPI(t, fresh, scan) })
	step("restart keeps the manifest", func(t *testing.T) {
		fresh.v.Stop()
		fresh.Peer.Restart(top)
		again := startVault(top, fresh.Peer, Config{})
		list, err := again.v.List(ctx)
		if err != nil || len(list) != 1 || list[0].Type != passport.TypePersonalDetails {
			t.Fatalf("after restart: List = %+v, %v; want personal_details only", list, err)
		}
		got, err := again.v.Element(ctx, passport.TypePersonalDetails)
		if err != nil {
			t.Fatal(err)
		}
		sameElement(t, got, pd)
	})
}

// testAPI drives the routes through Client on a node with four of the six
// holders of its passport left and no other peer.
func testAPI(t *testing.T, n *node, scan *passport.Element) {
	ctx := context.Background()
	c, srv := serveAPI(t, n)
	api := apiutil.NewClient(srv.URL, "")

	list, err := c.List(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("List = %+v, %v", list, err)
	}
	got, err := c.Element(ctx, passport.TypePassport)
	if err != nil {
		t.Fatal(err)
	}
	sameElement(t, got, scan)
	var files [][]byte
	streamed, err := c.ReadElement(ctx, passport.TypePassport, func(f *passport.StreamedFile) error {
		b, err := io.ReadAll(f.Body)
		files = append(files, b)
		return err
	})
	if err != nil || streamed.Data["document_no"] != scan.Data["document_no"] || len(files) != 1 || !bytes.Equal(files[0], scan.FrontSide.Bytes) {
		t.Fatalf("ReadElement: %+v, %d files, %v", streamed, len(files), err)
	}
	hs, err := c.Holders(ctx, "pp")
	if err != nil || len(hs) != 6 {
		t.Fatalf("Holders = %+v, %v", hs, err)
	}
	reachable := 0
	for _, h := range hs {
		if h.Reachable {
			reachable++
		}
	}
	if reachable != 4 {
		t.Fatalf("%d holders reachable, want 4: %+v", reachable, hs)
	}
	// Four good shards are under the threshold (k+1), but every live peer
	// already holds one: the audit says what is missing.
	rep, err := c.Audit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if item := itemOf(t, rep, passport.TypePassport); item.Repaired != 0 || !strings.Contains(item.Error, "need 6 peers to hold shards") {
		t.Fatalf("audit with no free peer: %+v", item)
	}
	if list, err = c.List(ctx); err != nil || list[0].Type != passport.TypePassport || list[0].Reachable != 4 {
		t.Fatalf("List after the audit = %+v, %v; want 4 passport shards reachable", list, err)
	}
	// The audit republished the manifest: the DHT copy is as new as ours.
	if res, err := c.Restore(ctx); err != nil || res.Replaced || len(res.Elements) != 2 {
		t.Fatalf("Restore on an up-to-date node = %+v, %v", res, err)
	}

	for _, tc := range []struct {
		err    error
		status int
		want   string
	}{
		{get(ctx, c, "selfie"), http.StatusBadRequest, "unknown element type"},
		{get(ctx, c, "email"), http.StatusNotFound, "no such element"},
		{add(ctx, c, &passport.Element{Type: passport.TypePassport, FrontSide: scan.FrontSide}), http.StatusBadRequest, "document_no"},
		{add(ctx, c, personalDetails("Ana")), http.StatusServiceUnavailable, "need 6 peers to hold shards"},
		{api.Post(ctx, "/api/v1/passport/elements", map[string]any{"type": "email", "colour": "red"}, nil), http.StatusBadRequest, "colour"},
	} {
		var ae *apiutil.APIError
		if !errors.As(tc.err, &ae) || ae.Status != tc.status || !strings.Contains(ae.Message, tc.want) {
			t.Errorf("got %v; want %d naming %q", tc.err, tc.status, tc.want)
		}
	}

	del, err := c.Delete(ctx, passport.TypePassport)
	if err != nil || !del.Deleted {
		t.Fatalf("Delete = %+v, %v", del, err)
	}
	for _, h := range hs {
		if !h.Reachable {
			continue
		}
		_, err := shard.Get(ctx, n.Net, mustPeer(t, h.Peer), cid.MustParse(h.CID))
		if !errors.Is(err, shard.ErrNotFound) {
			t.Errorf("holder %s after delete: Get = %v, want ErrNotFound", h.Peer, err)
		}
	}
	if err := get(ctx, c, "passport"); !apiutil.IsStatus(err, http.StatusNotFound) {
		t.Fatalf("read after delete: %v, want 404", err)
	}
}

func get(ctx context.Context, c *Client, t string) error {
	_, err := c.Element(ctx, passport.ElementType(t))
	return err
}

func add(ctx context.Context, c *Client, e *passport.Element) error {
	_, err := c.Add(ctx, e)
	return err
}

// checkHolders runs a live holder check and wants n shards on n distinct
// peers, all of them passing.
func checkHolders(t *testing.T, n *node, typ passport.ElementType, want int) []HolderView {
	t.Helper()
	hs, err := n.v.Holders(context.Background(), typ)
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != want || len(peerIDs(hs)) != want {
		t.Fatalf("%s: want %d shards on %d distinct peers, got %+v", typ, want, want, hs)
	}
	for _, h := range hs {
		if !h.Reachable || h.Status != "ok" {
			t.Fatalf("%s: holder %+v did not pass the live check", typ, h)
		}
	}
	return hs
}

// pickHolder returns a shard index whose holder is a running node other
// than skip.
func pickHolder(t *testing.T, ns []*node, hs []HolderView, skip *node) (int, *node) {
	t.Helper()
	for i, h := range hs {
		if n := byPeer(ns, h.Peer); n != nil && n != skip && !n.down {
			return i, n
		}
	}
	t.Fatalf("no running holder among %+v", hs)
	return 0, nil
}

func itemOf(t *testing.T, rep *AuditReport, typ passport.ElementType) ElementAudit {
	t.Helper()
	for _, it := range rep.Items {
		if it.Type == typ {
			return it
		}
	}
	t.Fatalf("audit report has no %s: %+v", typ, rep)
	return ElementAudit{}
}
