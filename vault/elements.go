package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/vault/passport"
	"github.com/tonmesh/tonmesh/vault/shard"
)

// ElementInfo describes a stored element without its content.
type ElementInfo struct {
	Type      passport.ElementType `json:"type"`
	Size      int                  `json:"size"` // bytes of the encoded element
	K         int                  `json:"k"`
	N         int                  `json:"n"`
	Added     time.Time            `json:"added"`
	Reachable int                  `json:"reachable"` // shards that passed their last check
	Checked   time.Time            `json:"checked"`   // time of that check (the upload at first)
}

func infoOf(e *elementEntry) ElementInfo {
	ok := 0
	for _, s := range e.Shards {
		if s.Status == statusOK {
			ok++
		}
	}
	return ElementInfo{Type: e.Type, Size: e.Size, K: e.K, N: e.N, Added: e.Added, Reachable: ok, Checked: e.Audited}
}

func infos(m *manifest) []ElementInfo {
	out := make([]ElementInfo, 0, len(m.Elements))
	for _, e := range m.Elements {
		out = append(out, infoOf(e))
	}
	return out
}

// Add validates e, encrypts it under a fresh key, splits it into N shards
// of which any K restore it, places each shard on a distinct peer chosen by
// DHT closeness (to the shard's CID, or for a striped element, to a
// placement target of the shard's own; see the package doc), and records
// it in the manifest (durably, before returning) and in the DHT. An
// element of the same type is replaced; its shards are then deleted.
func (v *Vault) Add(ctx context.Context, e *passport.Element) (*ElementInfo, error) {
	if e == nil {
		return nil, fmt.Errorf("%w: no element given", ErrInvalid)
	}
	if err := e.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	size := e.Size()
	if size <= shard.DefaultSegment {
		return v.store(ctx, e.Type, func() (*putResult, error) { return v.putWhole(ctx, e, size) })
	}
	return v.store(ctx, e.Type, func() (*putResult, error) {
		return v.putStriped(ctx, e.Type, size, func(w io.Writer) error {
			_, err := e.WriteTo(w)
			return err
		})
	})
}

// AddFrom is Add of an element of type t read from r in its binary
// encoding (passport.Element.Marshal's, the content route's), size bytes
// long. A striped element is validated as it streams
// (passport.ValidateFrom) and sealed and sent as it arrives, so the node
// holds a few stripes of it, not the element; one that proves invalid, is
// not of type t or ends early is refused with ErrInvalid, and no holder
// keeps any of it.
func (v *Vault) AddFrom(ctx context.Context, t passport.ElementType, r io.Reader, size int) (*ElementInfo, error) {
	if !t.Valid() {
		_, err := passport.ParseType(string(t))
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if size <= 0 || size > passport.MaxElementSize {
		return nil, fmt.Errorf("%w: an element's encoding is 1 to %d bytes, this one is said to be %d", ErrInvalid, passport.MaxElementSize, size)
	}
	ofType := func(head *passport.Element) error {
		if head.Type != t {
			return fmt.Errorf("the element sent is a %s, not a %s", head.Type, t)
		}
		return nil
	}
	if size <= shard.DefaultSegment {
		b := make([]byte, size)
		if n, err := io.ReadFull(r, b); err != nil {
			return nil, fmt.Errorf("%w: the element ended after %d of its %d bytes: %w", ErrInvalid, n, size, err)
		}
		e, err := passport.UnmarshalElementIn(b) // b is ours: its files stay in it
		if err == nil {
			err = ofType(e)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		return v.Add(ctx, e)
	}
	return v.store(ctx, t, func() (*putResult, error) {
		return v.putStriped(ctx, t, size, func(w io.Writer) error {
			head, err := passport.ValidateFrom(io.TeeReader(r, w))
			if err != nil {
				return err
			}
			return ofType(head)
		})
	})
}

// store runs put, a put of an element of type t, and records the element
// it placed: in the manifest, durably, then in the DHT. The element of
// type t it replaces loses its shards.
func (v *Vault) store(ctx context.Context, t passport.ElementType, put func() (*putResult, error)) (*ElementInfo, error) {
	res, err := put()
	if err != nil {
		if errors.Is(err, ErrInvalid) {
			return nil, err
		}
		return nil, fmt.Errorf("vault: add %s: %w", t, err)
	}
	entry, ps, holders := res.entry, res.ps, res.holders
	tPlaced := time.Now()

	var replaced *elementEntry
	err = v.update(func(m *manifest) (bool, error) {
		replaced = m.put(entry)
		return true, nil
	})
	if err != nil {
		v.unplace(context.WithoutCancel(ctx), ps, holders)
		return nil, fmt.Errorf("vault: add %s: %w", t, err)
	}
	// The DHT copy follows in the background (publishLoop; Stop
	// publishes what is still pending).
	v.kickPublish()
	v.log.Info("element stored", append([]any{"type", t, "bytes", entry.Size, "k", entry.K, "n", entry.N, "segment", entry.Segment},
		append(res.phases, "save", time.Since(tPlaced))...)...)
	if replaced != nil {
		v.dropShards(context.WithoutCancel(ctx), replaced)
	}
	info := infoOf(entry)
	return &info, nil
}

// putWhole seals e (size bytes marshalled) in one piece, straight in the
// shard buffer (no plaintext copy is left anywhere; the buffer is reused
// by the next Add once these shards are placed), and places the shards by
// their CIDs.
func (v *Vault) putWhole(ctx context.Context, e *passport.Element, size int) (*putResult, error) {
	t0 := time.Now()
	var marshalErr error
	enc, buf, err := shard.EncodeInto(v.bufs.get(), size, v.cfg.K, v.cfg.N, func(dst []byte) error {
		b, err := e.AppendMarshal(dst[:0])
		if err == nil && (len(b) != len(dst) || len(b) > 0 && &b[0] != &dst[0]) {
			err = fmt.Errorf("passport: the element marshals to %d bytes, not the %d its size said", len(b), len(dst))
		}
		marshalErr = err
		return err
	})
	defer v.bufs.put(buf)
	if marshalErr != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, marshalErr)
	}
	if err != nil {
		return nil, err
	}
	v.adoptRemote(ctx)
	tEncoded := time.Now()

	ps := make([]placement, enc.N)
	for i := range ps {
		ps[i] = placement{index: i, data: enc.Shards[i], cid: enc.CIDs[i]}
	}
	entry, err := newEntry(e.Type, size, enc.Size, enc.K, enc.N)
	if err != nil {
		return nil, err
	}
	entry.Key = enc.Key
	// The audit answers need only the shards: compute them while the
	// shards travel.
	entry.Shards = make([]*shardEntry, len(enc.Shards))
	var wg sync.WaitGroup
	for i, data := range enc.Shards {
		entry.Shards[i] = &shardEntry{CID: enc.CIDs[i], Status: statusOK}
		wg.Go(func() { entry.Shards[i].Answers = answers(entry.Seed, enc.CIDs[i], 0, data) })
	}
	cands := v.candidates(ctx, keysOf(enc.CIDs), nil)
	tFound := time.Now()
	holders, err := v.place(ctx, ps, cands, 0)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	for i, s := range entry.Shards {
		s.Holder = holders[i]
	}
	// The buffer goes back to the pool: nothing may refer to it.
	for i := range ps {
		ps[i].data = nil
	}
	return &putResult{entry: entry, ps: ps, holders: holders, phases: []any{
		"encode", tEncoded.Sub(t0), "lookup", tFound.Sub(tEncoded), "place", time.Since(tFound)}}, nil
}

// answers computes the expected answers to the audit nonces next, next+1,
// ... of a shard, from its data; none for a shard audited by proofs
// (shard.Provable), which needs nothing precomputed.
func answers(seed [32]byte, c cid.Cid, next uint64, data []byte) [][answerLen]byte {
	if shard.Provable(c) {
		return nil
	}
	out := make([][answerLen]byte, answersPerShard)
	for i := range out {
		a := shard.ChallengeAnswer(challengeNonce(seed, c, next+uint64(i)), data)
		copy(out[i][:], a[:answerLen])
	}
	return out
}

// dropShards deletes every shard of e from its holder (best effort) and
// returns how many holders confirmed.
func (v *Vault) dropShards(ctx context.Context, e *elementEntry) int {
	var (
		wg sync.WaitGroup
		mu sync.Mutex
		ok int
	)
	for _, s := range e.Shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if v.deleteShard(ctx, s.Holder, s.CID) == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return ok
}

// entryOf is a copy of the manifest's entry of type t.
func (v *Vault) entryOf(t passport.ElementType) (*elementEntry, error) {
	if err := typeOf(t); err != nil {
		return nil, err
	}
	v.mu.Lock()
	e := v.man.element(t)
	if e != nil {
		e = e.clone()
	}
	v.mu.Unlock()
	if e == nil {
		return nil, fmt.Errorf("%w: %s (add it first, or restore the vault on this node)", ErrNotFound, t)
	}
	return e, nil
}

// Element fetches and decrypts the element of type t (WriteElement) into
// memory of its own, which is handed over to the element (its files stay
// there) instead of copying them out; a read that fails clears it for
// reuse by the next read or Add.
func (v *Vault) Element(ctx context.Context, t passport.ElementType) (*passport.Element, error) {
	var plain *bytes.Buffer
	err := v.WriteElement(ctx, t, func(info ElementInfo) (io.Writer, error) {
		plain = bytes.NewBuffer(v.bufs.getCap(info.Size))
		return plain, nil
	})
	if plain == nil {
		return nil, err
	}
	if err == nil {
		b := plain.Bytes()
		el, uerr := passport.UnmarshalElementIn(b[:len(b):len(b)])
		if uerr == nil {
			return el, nil
		}
		err = fmt.Errorf("vault: read %s: the decrypted element does not decode: %w", t, uerr)
	}
	b := plain.Bytes()
	clear(b[:cap(b)])
	v.bufs.put(b[:0])
	return nil, err
}

// errFieldsRead stops a read once the fields it was for are decoded.
var errFieldsRead = errors.New("vault: the fields are read")

// Fields reads the element of type t only as far as its data fields and
// value, and returns its type, data and value, without files. They come
// first in the encoding, so the read of a striped element stops after its
// first stripe or two, whatever its size (a form to replace the element
// needs no more).
func (v *Vault) Fields(ctx context.Context, t passport.ElementType) (*passport.Element, error) {
	var head *passport.Element
	e, err := v.decodeStreamed(ctx, t, func(f *passport.StreamedFile) error {
		head = f.Head
		return errFieldsRead
	})
	switch {
	case errors.Is(err, errFieldsRead):
		e = head
	case err != nil:
		return nil, err
	}
	return &passport.Element{Type: e.Type, Data: e.Data, Value: e.Value}, nil
}

// errReadStopped ends a read whose decoder stopped first.
var errReadStopped = errors.New("vault: the decoder stopped reading")

// decodeStreamed decodes the element of type t as WriteElement writes it
// (passport.DecodeElementFrom), handing each file to file as it arrives;
// an error of file stops the read and is returned. The element returned
// has no files' bytes. A read that fails returns its own error (not
// found, unavailable), not the decoder's.
func (v *Vault) decodeStreamed(ctx context.Context, t passport.ElementType, file passport.FileFunc) (*passport.Element, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	read := make(chan error, 1)
	go func() {
		err := v.WriteElement(ctx, t, func(ElementInfo) (io.Writer, error) { return pw, nil })
		pw.CloseWithError(err)
		read <- err
	}()
	e, err := passport.DecodeElementFrom(pr, file)
	pr.CloseWithError(errReadStopped) // the read stops at its next write
	if rerr := <-read; rerr != nil && !errors.Is(rerr, errReadStopped) {
		return nil, rerr
	}
	if err != nil {
		return nil, fmt.Errorf("vault: read %s: %w", t, err)
	}
	return e, nil
}

// WriteElement fetches and decrypts the element of type t and writes its
// encoding (passport.Element.Marshal's) to the writer open
// returns. open is called once, with the element's info, before the first
// byte. A striped element is written stripe by stripe as its shards
// arrive, in memory that does not grow with its size. A read that fails
// midway has written only authenticated bytes, but not all of them: a
// caller keeps nothing of a write that returned an error
// (passport.DecodeElementFrom refuses a cut-off encoding).
func (v *Vault) WriteElement(ctx context.Context, t passport.ElementType, open func(ElementInfo) (io.Writer, error)) error {
	e, err := v.entryOf(t)
	if err != nil {
		return err
	}
	w, err := open(infoOf(e))
	if err != nil {
		return err
	}
	if e.Segment != 0 {
		return v.streamStriped(ctx, e, w)
	}
	// One piece: the first K intact shards, fetched in parallel, decrypted
	// in their buffer.
	buf, err := v.fetch(ctx, e, e.K)
	if err != nil {
		return err
	}
	defer func() { v.bufs.put(buf.Release()) }()
	plain, err := buf.Decode(e.Key)
	if err != nil {
		return fmt.Errorf("vault: read %s: %w", t, err)
	}
	if _, err := w.Write(plain); err != nil {
		return fmt.Errorf("vault: read %s: write plaintext: %w", t, err)
	}
	return nil
}

// Types lists the types of the stored elements.
func (v *Vault) Types(ctx context.Context) ([]passport.ElementType, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]passport.ElementType, 0, len(v.man.Elements))
	for _, e := range v.man.Elements {
		out = append(out, e.Type)
	}
	return out, nil
}

// List describes the stored elements, with the shard reachability of their
// last check.
func (v *Vault) List(ctx context.Context) ([]ElementInfo, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return infos(v.man), nil
}

// Delete asks every holder of the element's shards to delete them (signed
// with each shard's delete key), then removes the element from the
// manifest. Holders that cannot be reached keep an unreadable shard until
// their quota pushes it out.
func (v *Vault) Delete(ctx context.Context, t passport.ElementType) error {
	if err := typeOf(t); err != nil {
		return err
	}
	v.adoptRemote(ctx)
	v.mu.Lock()
	e := v.man.element(t)
	if e != nil {
		e = e.clone()
	}
	v.mu.Unlock()
	if e == nil {
		return fmt.Errorf("%w: %s", ErrNotFound, t)
	}
	deleted := v.dropShards(ctx, e)
	err := v.update(func(m *manifest) (bool, error) { return m.remove(t, e.Key), nil })
	if err != nil {
		return fmt.Errorf("vault: delete %s: %w", t, err)
	}
	v.log.Info("element deleted", "type", t, "shards_deleted", deleted, "shards", len(e.Shards))
	v.kickPublish()
	return nil
}

// holdersOf returns the set of peers holding a shard of e.
func holdersOf(e *elementEntry) map[peer.ID]bool {
	out := make(map[peer.ID]bool, len(e.Shards))
	for _, s := range e.Shards {
		out[s.Holder] = true
	}
	return out
}
