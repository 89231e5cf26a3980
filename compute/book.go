package compute

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/ledger"
)

// The proxy's book in the compute store space: one record per client
// channel it has billed, and one of its counters. Reservations are not
// kept: a request in flight does not survive a restart either.
const (
	bookChannelPrefix = "proxy/ch/"
	bookStatsKey      = "proxy/stats"
	// maxAmountDigits bounds a stored amount (nanoTON); far above any real one.
	maxAmountDigits = 40
)

func bookChannelKey(ch string) []byte { return []byte(bookChannelPrefix + ch) }

// channelRecord is a client channel in the book: the client it is bound
// to and everything billed on it, paid or not.
type channelRecord struct {
	Owner  string `json:"owner"`
	Billed string `json:"billed"`
}

// statsRecord is the proxy's counters in the book.
type statsRecord struct {
	Jobs        uint64 `json:"jobs"`
	Failed      uint64 `json:"failed"`
	Retries     uint64 `json:"retries"`
	Refused     uint64 `json:"refused"`
	Billed      string `json:"billed"`
	Received    string `json:"received"`
	PaidWorkers string `json:"paid_workers"`
}

// parseAmount reads a stored non-negative nanoTON amount.
func parseAmount(s string) (*big.Int, error) {
	v, ok := new(big.Int).SetString(s, 10)
	if !ok || v.Sign() < 0 || len(s) > maxAmountDigits {
		return nil, fmt.Errorf("amount %q is not a non-negative whole number of nanoTON", s)
	}
	return v, nil
}

// loadBook makes p keep its book in space and reads its counters back.
// Corrupt counters are logged and start from zero; they are not money.
func (p *proxyState) loadBook(space *ledger.Space, log *slog.Logger) error {
	p.space = space
	raw, err := space.Get([]byte(bookStatsKey))
	if errors.Is(err, ledger.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("compute: read the proxy's counters: %w", err)
	}
	var r statsRecord
	err = json.Unmarshal(raw, &r)
	var billed, received, paid *big.Int
	if err == nil {
		billed, err = parseAmount(r.Billed)
	}
	if err == nil {
		received, err = parseAmount(r.Received)
	}
	if err == nil {
		paid, err = parseAmount(r.PaidWorkers)
	}
	if err != nil {
		log.Error("the proxy's stored counters are corrupt; they start again from zero (channel bills are kept apart and are not affected)", "err", err)
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats.Jobs, p.stats.Failed, p.stats.Retries, p.stats.Refused = r.Jobs, r.Failed, r.Retries, r.Refused
	p.billedT, p.received, p.paidOut = billed, received, paid
	return nil
}

// recall reads the book's record of client channel ch into memory unless
// it is there already. A channel the book does not know was never billed.
func (p *proxyState) recall(ch string) error {
	if p.space == nil {
		return nil
	}
	p.mu.Lock()
	_, known := p.billed[ch]
	p.mu.Unlock()
	if known {
		return nil
	}
	raw, err := p.space.Get(bookChannelKey(ch))
	if errors.Is(err, ledger.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("the proxy cannot read its bills on channel %s (%v): retry later", ch, err)
	}
	var r channelRecord
	err = json.Unmarshal(raw, &r)
	var billed *big.Int
	var owner peer.ID
	if err == nil {
		billed, err = parseAmount(r.Billed)
	}
	if err == nil {
		owner, err = peer.Decode(r.Owner)
	}
	if err != nil {
		return fmt.Errorf("the proxy's record of channel %s is corrupt (%v): open a new channel", ch, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.billed[ch] == nil {
		p.billed[ch], p.owner[ch] = billed, owner
	}
	return nil
}

// The book's writes are committed in groups, as Pebble's commit pipeline
// does: every change bumps p.gen under p.mu and marks what it touched;
// whoever then holds p.wmu writes every marked channel and the counters in
// one synced batch and records the generation it covered, so callers that
// queued behind it find their change already durable and return without a
// write of their own. A failed batch marks its channels again; each waiter
// whose change it carried writes again itself.

// charge releases a request's reservation of reserved on client channel ch
// and bills it amount, then makes the channel's billed total and the
// counters durable: only after it returns nil may the bill go to the
// client. It returns the channel's billed total with this bill, which the
// client's vouchers must reach to pay it. On error the bill stands in
// memory but is not durable. Either way the bill is open until the caller
// calls closeBill.
func (p *proxyState) charge(ch string, reserved, amount *big.Int) (*big.Int, error) {
	p.mu.Lock()
	p.unreserveLocked(ch, reserved, amount)
	p.stats.Jobs++
	billed := new(big.Int).Set(p.billed[ch])
	// The bill is open from now: a later bill's payment may wait for its
	// voucher (see coverage). closeBill ends it.
	p.coverageLocked(ch).open++
	p.dirty[ch] = true
	gen := p.bumpLocked()
	round := p.joinRoundLocked()
	p.mu.Unlock()
	if round != nil {
		<-round
	}
	return billed, p.flush(gen)
}

// joinRoundLocked returns the write round this change waits for, opening
// one that writes the book p.linger from now; nil when bills are written
// at once. Bills lingering together share one synced write: a sequence of
// requests answered back to back then costs one fsync per p.linger on the
// proxy, not one each, and the writes of a busy node's other syncs (its
// vouchers, its journal) are fewer to wait behind. No answer waits for it
// (the bill goes out after the answer), and the bill still reaches the
// client only once it is durable: the caller flushes its own generation
// after the round, which returns at once when the round's write holds it
// and writes again when that write failed. p.mu is held.
func (p *proxyState) joinRoundLocked() chan struct{} {
	if p.space == nil || p.linger <= 0 {
		return nil
	}
	if p.round == nil {
		round := make(chan struct{})
		p.round = round
		// Bounded: it ends after one write; the bills waiting on it hold
		// their request handlers, which Stop waits for.
		time.AfterFunc(p.linger, func() {
			p.mu.Lock()
			p.round = nil
			gen := p.gen // every change that joined this round
			p.mu.Unlock()
			_ = p.flush(gen) // a failure is retried by each waiter's own flush
			close(round)
		})
	}
	return p.round
}

// save makes the counters durable (after a settlement, and at Stop).
func (p *proxyState) save() error {
	p.mu.Lock()
	gen := p.bumpLocked()
	p.mu.Unlock()
	return p.flush(gen)
}

// bumpLocked counts a change to the book; p.mu is held.
func (p *proxyState) bumpLocked() uint64 {
	p.gen++
	return p.gen
}

// flush returns once change gen is durable, writing it (with every change
// queued so far) unless a batch already did.
func (p *proxyState) flush(gen uint64) error {
	if p.space == nil {
		return nil
	}
	p.wmu.Lock()
	defer p.wmu.Unlock()
	p.mu.Lock()
	if p.durable >= gen {
		p.mu.Unlock()
		return nil
	}
	upto := p.gen
	recs := make(map[string][]byte, len(p.dirty))
	for ch := range p.dirty {
		v, _ := json.Marshal(channelRecord{Owner: p.owner[ch].String(), Billed: p.billed[ch].String()}) // strings only: cannot fail
		recs[ch] = v
	}
	clear(p.dirty)
	st := p.statsLocked()
	p.mu.Unlock()
	err := p.write(func(b *ledger.Batch) {
		for ch, v := range recs {
			b.Set(bookChannelKey(ch), v)
		}
		st.put(b)
	})
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		for ch := range recs {
			p.dirty[ch] = true
		}
		return err
	}
	p.durable = upto
	return nil
}

// statsLocked snapshots the counters; p.mu is held.
func (p *proxyState) statsLocked() statsRecord {
	return statsRecord{Jobs: p.stats.Jobs, Failed: p.stats.Failed, Retries: p.stats.Retries, Refused: p.stats.Refused,
		Billed: p.billedT.String(), Received: p.received.String(), PaidWorkers: p.paidOut.String()}
}

func (r statsRecord) put(b *ledger.Batch) {
	v, _ := json.Marshal(r) // strings and numbers only: cannot fail
	b.Set([]byte(bookStatsKey), v)
}

// write commits one batch filled by fill; p.wmu is held, so batches land
// in the order their snapshots were taken.
func (p *proxyState) write(fill func(*ledger.Batch)) error {
	if p.space == nil {
		return nil
	}
	b := p.space.NewBatch()
	fill(b)
	if err := b.Commit(); err != nil {
		return fmt.Errorf("compute: write the proxy's book (check the data directory's disk): %w", err)
	}
	return nil
}
