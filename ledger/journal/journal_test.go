package journal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/ledger"
)

func openStore(t testing.TB, dir string) *ledger.Store {
	t.Helper()
	s, err := ledger.Open(dir)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	return s
}

// newJournal opens a journal in a fresh store; both close at cleanup.
func newJournal(t testing.TB, opts ...Option) *Journal {
	t.Helper()
	s := openStore(t, t.TempDir())
	j, err := Open(s, opts...)
	if err != nil {
		s.Close()
		t.Fatalf("open journal: %v", err)
	}
	t.Cleanup(func() {
		j.Close()
		s.Close()
	})
	return j
}

func entry(i int) Entry {
	return Entry{
		Kind:         KindJobPaid,
		Key:          fmt.Sprintf("tx-%04d", i),
		Amount:       big.NewInt(int64(i) * 1_000_000),
		Counterparty: "UQpeer",
		Payload:      []byte(fmt.Sprintf(`{"job":%d}`, i)),
		Time:         time.Unix(1_700_000_000, int64(i)),
	}
}

func TestAppendChainsAndReads(t *testing.T) {
	j := newJournal(t)
	ctx := context.Background()
	prev := make([]byte, HashSize)
	for i := 1; i <= 5; i++ {
		r, err := j.Append(ctx, entry(i))
		if err != nil {
			t.Fatal(err)
		}
		if r.Seq != uint64(i) || !bytes.Equal(r.Prev, prev) || r.CheckHash() != nil {
			t.Fatalf("record %d: seq %d prev %x (want %x), hash check %v", i, r.Seq, r.Prev, prev, r.CheckHash())
		}
		prev = r.Hash
	}
	seq, hash := j.Head()
	if seq != 5 || !bytes.Equal(hash, prev) {
		t.Fatalf("head = %d %x, want 5 %x", seq, hash, prev)
	}
	r, err := j.Get(3)
	if err != nil {
		t.Fatal(err)
	}
	want := entry(3)
	if r.Key != want.Key || r.Amount.Cmp(want.Amount) != 0 || !bytes.Equal(r.Payload, want.Payload) ||
		!r.Time.Equal(want.Time) || r.Counterparty != want.Counterparty || r.Kind != want.Kind {
		t.Fatalf("Get(3) = %+v, want entry %+v", r, want)
	}
	byKey, err := j.GetByKey("tx-0004")
	if err != nil || byKey.Seq != 4 {
		t.Fatalf("GetByKey = %v, %v", byKey, err)
	}
	if _, err := j.Get(6); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(6) err = %v, want ErrNotFound", err)
	}
	if _, err := j.GetByKey("nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetByKey(nope) err = %v", err)
	}
	list, err := j.List(2, 2)
	if err != nil || len(list) != 2 || list[0].Seq != 3 || list[1].Seq != 4 {
		t.Fatalf("List(2,2) = %v, %v", list, err)
	}
	if all, _ := j.List(0, 0); len(all) != 5 {
		t.Fatalf("List(0,0) has %d records", len(all))
	}
	if err := j.Verify(1, 5); err != nil {
		t.Fatal(err)
	}
}

func TestIdempotentKey(t *testing.T) {
	j := newJournal(t)
	ctx := context.Background()
	first, err := j.Append(ctx, entry(1))
	if err != nil {
		t.Fatal(err)
	}
	again := entry(1)
	again.Amount = big.NewInt(999)
	r, err := j.Append(ctx, again)
	if err != nil {
		t.Fatal(err)
	}
	if r.Seq != first.Seq || !bytes.Equal(r.Hash, first.Hash) || r.Amount.Cmp(first.Amount) != 0 {
		t.Fatalf("second append of the same key gave %+v, want the first record %+v", r, first)
	}
	if seq, _ := j.Head(); seq != 1 {
		t.Fatalf("head seq %d after a duplicate, want 1", seq)
	}
	// Many goroutines racing with the same few keys: one record per key.
	var wg sync.WaitGroup
	seqs := make([]uint64, 64)
	for g := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := j.Append(ctx, entry(10+g%4))
			if err != nil {
				t.Error(err)
				return
			}
			seqs[g] = r.Seq
		}()
	}
	wg.Wait()
	if seq, _ := j.Head(); seq != 5 {
		t.Fatalf("head seq %d after 4 distinct keys, want 5", seq)
	}
	for g := range 64 {
		if seqs[g] != seqs[g%4] {
			t.Fatalf("goroutines with key %d got seqs %d and %d", g%4, seqs[g], seqs[g%4])
		}
	}
}

func TestRefusesBadEntries(t *testing.T) {
	j := newJournal(t, WithKinds("tip"))
	ctx := context.Background()
	big256 := new(big.Int).Lsh(big.NewInt(1), 256)
	for name, e := range map[string]Entry{
		"no key":       {Kind: KindSale},
		"unknown kind": {Kind: "lottery", Key: "a"},
		"bad kind":     {Kind: "Sale!", Key: "a"},
		"long key":     {Kind: KindSale, Key: string(make([]byte, MaxKeyBytes+1))},
		"big payload":  {Kind: KindSale, Key: "a", Payload: make([]byte, MaxPayloadBytes+1)},
		"huge amount":  {Kind: KindSale, Key: "a", Amount: big256},
	} {
		if _, err := j.Append(ctx, e); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := j.Append(ctx, Entry{Kind: "lottery", Key: "a"}); !errors.Is(err, ErrUnknownKind) {
		t.Errorf("unknown kind err = %v", err)
	}
	if seq, _ := j.Head(); seq != 0 {
		t.Fatalf("refused entries wrote something: head %d", seq)
	}
	r, err := j.Append(ctx, Entry{Kind: "tip", Key: "t1", Amount: big.NewInt(-5)})
	if err != nil {
		t.Fatalf("registered kind refused: %v", err)
	}
	if r.Amount.Int64() != -5 || r.Time.IsZero() {
		t.Fatalf("record %+v", r)
	}
	if _, err := Open(openStore(t, t.TempDir()), WithKinds("Bad Kind")); err == nil {
		t.Fatal("Open accepted an invalid kind name")
	}
}

func TestReopenKeepsHeadAndCloseRefuses(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	j, err := Open(s)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() { defer wg.Done(); j.Append(ctx, entry(i)) }()
	}
	wg.Wait()
	seq, hash := j.Head()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Append(ctx, entry(100)); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}
	s.Close()

	s = openStore(t, dir)
	defer s.Close()
	j, err = Open(s)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	seq2, hash2 := j.Head()
	if seq != 40 || seq2 != seq || !bytes.Equal(hash, hash2) {
		t.Fatalf("head before close %d %x, after reopen %d %x", seq, hash, seq2, hash2)
	}
	r, err := j.Append(ctx, entry(100))
	if err != nil || r.Seq != 41 || !bytes.Equal(r.Prev, hash) {
		t.Fatalf("append after reopen: %+v, %v", r, err)
	}
	if err := j.Verify(1, 41); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyFindsTampering(t *testing.T) {
	ctx := context.Background()
	for name, tamper := range map[string]func(j *Journal){
		"amount changed": func(j *Journal) {
			r, _ := j.Get(4)
			r.Amount = big.NewInt(1)
			j.space.Set(recordKey(4), MarshalRecord(r))
		},
		"rehashed record": func(j *Journal) {
			r, _ := j.Get(4)
			r.Counterparty = "mallory"
			r.Hash = r.ComputeHash()
			j.space.Set(recordKey(4), MarshalRecord(r))
		},
		"record deleted": func(j *Journal) { j.space.Delete(recordKey(4)) },
	} {
		t.Run(name, func(t *testing.T) {
			j := newJournal(t)
			for i := 1; i <= 8; i++ {
				if _, err := j.Append(ctx, entry(i)); err != nil {
					t.Fatal(err)
				}
			}
			tamper(j)
			err := j.Verify(1, 8)
			var be *BrokenError
			if !errors.As(err, &be) {
				t.Fatalf("Verify = %v, want a BrokenError", err)
			}
			// A rehashed record verifies alone; its successor's link breaks.
			want := uint64(4)
			if name == "rehashed record" {
				want = 5
			}
			if be.Seq != want {
				t.Fatalf("broken at %d (%v), want %d", be.Seq, err, want)
			}
			if err := j.Verify(1, 3); err != nil {
				t.Fatalf("the untouched prefix fails: %v", err)
			}
		})
	}
}

func TestCancelledAppendIsSafeToRetry(t *testing.T) {
	j := newJournal(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := j.Append(ctx, entry(1)); !errors.Is(err, context.Canceled) {
		// The queue had room, so it may have been queued and answered
		// before ctx was looked at; either way a retry must be exact.
		if err != nil {
			t.Fatalf("cancelled append: %v", err)
		}
	}
	r, err := j.Append(context.Background(), entry(1))
	if err != nil || r.Seq != 1 {
		t.Fatalf("retry: %+v, %v", r, err)
	}
	if seq, _ := j.Head(); seq != 1 {
		t.Fatalf("head %d after a retried append, want 1", seq)
	}
}

// TestAppendAllOneCommit: AppendAll writes its entries in order in one
// synced commit, dedupes keys it has seen (within the call too), and
// queues nothing when one entry is invalid.
func TestAppendAllOneCommit(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	j, err := Open(s)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	ctx := context.Background()
	if _, err := j.Append(ctx, entry(0)); err != nil {
		t.Fatal(err)
	}
	before := s.Durability().Commits
	es := []Entry{entry(0), entry(1), entry(2), entry(1), entry(3)}
	recs, err := j.AppendAll(ctx, es)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Durability().Commits - before; got != 1 {
		t.Fatalf("AppendAll of 3 new entries made %d synced commits, want 1", got)
	}
	wantSeqs := []uint64{1, 2, 3, 2, 4}
	for i, r := range recs {
		if r.Seq != wantSeqs[i] || r.Key != es[i].Key {
			t.Fatalf("record %d: seq %d key %q, want seq %d key %q", i, r.Seq, r.Key, wantSeqs[i], es[i].Key)
		}
	}
	if err := j.Verify(1, 4); err != nil {
		t.Fatalf("verify: %v", err)
	}
	bad := []Entry{entry(5), {Kind: KindJobPaid}}
	if _, err := j.AppendAll(ctx, bad); err == nil {
		t.Fatal("AppendAll with an entry without a key succeeded")
	}
	if seq, _ := j.Head(); seq != 4 {
		t.Fatalf("head seq %d after a refused AppendAll, want 4 (nothing queued)", seq)
	}
	if recs, err := j.AppendAll(ctx, nil); err != nil || recs != nil {
		t.Fatalf("AppendAll(nil) = %v, %v", recs, err)
	}
}
