package compute

import (
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/ledger"
)

// proxyState is the proxy role: load per worker, reservations and bills
// per client channel, and accounts. Bills, channel owners and counters are
// kept in the book (book.go) too; load and reservations only in memory.
type proxyState struct {
	commissionBP int
	space        *ledger.Space // the book; nil: memory only (unit tests)
	wmu          sync.Mutex    // one writer of the book at a time; taken before mu

	mu       sync.Mutex
	inflight map[peer.ID]int           // worker → requests this proxy has running there
	avgDur   map[peer.ID]time.Duration // worker → moving average of request durations
	reserved map[string]*big.Int       // client channel → reserved for requests in flight
	billed   map[string]*big.Int       // client channel → billed in all (from the book), paid or not
	owner    map[string]peer.ID        // client channel → the client that first used it
	stats    ProxyStatus
	received *big.Int
	paidOut  *big.Int
	billedT  *big.Int
	coverage map[string]*coverage // client channel → bills out and vouchers seen
	dirty    map[string]bool      // client channels billed since the book's last write
	gen      uint64               // changes to the book so far
	durable  uint64               // changes the book holds
	// round is closed once the book write that the bills made since it
	// opened wait for has run (nil: no bill is waiting); see charge.
	round chan struct{}
	// linger is how long the first bill of a round waits for others
	// before the round's one write (payLinger; unused without a book).
	linger time.Duration
}

func newProxyState(bp int) *proxyState {
	return &proxyState{
		commissionBP: bp,
		inflight:     make(map[peer.ID]int),
		avgDur:       make(map[peer.ID]time.Duration),
		reserved:     make(map[string]*big.Int),
		billed:       make(map[string]*big.Int),
		owner:        make(map[string]peer.ID),
		received:     new(big.Int),
		paidOut:      new(big.Int),
		billedT:      new(big.Int),
		dirty:        make(map[string]bool),
		coverage:     make(map[string]*coverage),
		linger:       payLinger,
	}
}

// defaultDuration is a worker's assumed request duration before any is measured.
const defaultDuration = time.Second

// candidate is a worker the proxy may route to, at client prices.
type candidate struct {
	lo     *liveOffer
	id     peer.ID
	pp, pc *big.Int // client prices (commission included)
	score  time.Duration
}

// routeError is a refusal explained to the client.
type routeError struct{ code, msg string }

func (e *routeError) Error() string { return e.msg }

// pick chooses a worker for model: among live offers serving it, not
// excluded, with free capacity and a client price within maxPrice (nil: no
// cap), the one with the least running × average duration, then the
// cheapest.
func (s *Service) pick(model string, maxPrice *big.Int, exclude map[peer.ID]bool, now time.Time) (*candidate, *routeError) {
	p := s.proxy
	var serving, free []*candidate
	var cheapest *big.Int
	p.mu.Lock()
	for _, lo := range s.table.live(now) {
		id, err := peer.Decode(lo.offer.Peer)
		if err != nil || (id == s.self && s.worker == nil) || exclude[id] || !lo.offer.serves(model) {
			continue
		}
		pp, pc := lo.offer.prices()
		c := &candidate{lo: lo, id: id, pp: withCommission(pp, p.commissionBP), pc: withCommission(pc, p.commissionBP)}
		serving = append(serving, c)
		running := max(lo.offer.Running, p.inflight[id])
		if running >= lo.offer.Concurrency {
			continue
		}
		price := capPrice(c.pp, c.pc)
		if cheapest == nil || price.Cmp(cheapest) < 0 {
			cheapest = price
		}
		if maxPrice != nil && price.Cmp(maxPrice) > 0 {
			continue
		}
		avg := p.avgDur[id]
		if avg <= 0 {
			avg = defaultDuration
		}
		c.score = time.Duration(running) * avg
		free = append(free, c)
	}
	p.mu.Unlock()
	switch {
	case len(serving) == 0:
		return nil, &routeError{codeNoWorker, s.noWorkerMessage(model, len(exclude) > 0, now)}
	case cheapest == nil:
		return nil, &routeError{codeBusy, fmt.Sprintf("every worker serving %s is at its concurrency limit: retry shortly", model)}
	case len(free) == 0:
		return nil, &routeError{codePriceCap, fmt.Sprintf("no worker serves %s at or below %s nanoTON per 1M tokens; the cheapest is %s: raise max_price", model, maxPrice, cheapest)}
	}
	slices.SortFunc(free, func(a, b *candidate) int {
		if a.score != b.score {
			return int(a.score - b.score)
		}
		if c := capPrice(a.pp, a.pc).Cmp(capPrice(b.pp, b.pc)); c != 0 {
			return c
		}
		return cmpString(string(a.id), string(b.id))
	})
	return free[0], nil
}

func (s *Service) noWorkerMessage(model string, excluded bool, now time.Time) string {
	if excluded {
		return fmt.Sprintf("no other worker serves %s", model)
	}
	var models []string
	for _, lo := range s.table.live(now) {
		for _, m := range lo.offer.Models {
			if !slices.Contains(models, m.ID) {
				models = append(models, m.ID)
			}
		}
	}
	if len(models) == 0 {
		return fmt.Sprintf("no worker serves %s: no worker offers are known yet (wait for offers, or check that a worker is running)", model)
	}
	slices.Sort(models)
	return fmt.Sprintf("no worker serves %s; models on offer: %s", model, strings.Join(models, ", "))
}

// started counts a request running on worker.
func (p *proxyState) started(worker peer.ID) {
	p.mu.Lock()
	p.inflight[worker]++
	p.mu.Unlock()
}

// finished uncounts a request; a successful one updates the worker's
// average duration.
func (p *proxyState) finished(worker peer.ID, d time.Duration, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inflight[worker]--; p.inflight[worker] <= 0 {
		delete(p.inflight, worker)
	}
	if !ok {
		return
	}
	if avg := p.avgDur[worker]; avg > 0 {
		p.avgDur[worker] = (avg*7 + d) / 8
	} else {
		p.avgDur[worker] = d
	}
}

// coverage is what a client channel's payments stand at: the bills sent
// and not yet settled, and the highest voucher total seen. Vouchers are
// cumulative and bills of concurrent requests may be paid in any order,
// so a bill whose own payment came first waits for the vouchers of the
// earlier bills still open, which cover it too.
type coverage struct {
	open    int      // bills charged, not yet settled
	paid    *big.Int // highest voucher total seen
	changed chan struct{}
}

func (p *proxyState) coverageLocked(ch string) *coverage {
	c := p.coverage[ch]
	if c == nil {
		c = &coverage{paid: new(big.Int), changed: make(chan struct{})}
		p.coverage[ch] = c
	}
	return c
}

// signal wakes whoever waits on a change of c; p.mu is held.
func (c *coverage) signal() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// closeBill ends a bill that charge opened on ch: it was paid, or will
// not be.
func (p *proxyState) closeBill(ch string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.coverageLocked(ch)
	if c.open--; c.open <= 0 {
		delete(p.coverage, ch)
	}
	c.signal()
}

// observe records paid, a voucher total seen on ch, and reports whether
// the vouchers cover billedAt, whether other bills on ch are still open
// (whose payments could cover it), and a channel closed at the next
// change.
func (p *proxyState) observe(ch string, paid, billedAt *big.Int) (covered, others bool, changed <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.coverageLocked(ch)
	if paid.Cmp(c.paid) > 0 {
		c.paid.Set(paid)
		c.signal()
	}
	return c.paid.Cmp(billedAt) >= 0, c.open > 1, c.changed
}

// bindChannel ties a client channel to the first client that uses it, so
// another peer cannot spend a channel it does not pay into. A channel's
// bills and owner come from the book; a channel the book does not know
// (never billed here) takes what was paid so far as already billed: from
// then on, the channel's vouchers must cover every bill exactly.
func (p *proxyState) bindChannel(ch string, client peer.ID, paid *big.Int) error {
	if err := p.recall(ch); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if o, ok := p.owner[ch]; ok && o != client {
		return fmt.Errorf("channel %s is used by another client", ch)
	}
	p.owner[ch] = client
	if p.billed[ch] == nil {
		p.billed[ch] = new(big.Int).Set(paid)
	}
	return nil
}

// reserve sets amount aside on ch if the channel's deposit covers it after
// what was billed (or paid, if more) and what is already reserved.
func (p *proxyState) reserve(ch string, deposited, paid, amount *big.Int) *routeError {
	p.mu.Lock()
	defer p.mu.Unlock()
	used := new(big.Int).Set(paid)
	if b := p.billed[ch]; b != nil && b.Cmp(used) > 0 {
		used.Set(b)
	}
	if r := p.reserved[ch]; r != nil {
		used.Add(used, r)
	}
	avail := new(big.Int).Sub(deposited, used)
	if avail.Cmp(amount) < 0 {
		if avail.Sign() < 0 {
			avail.SetInt64(0)
		}
		return &routeError{codeFunds, fmt.Sprintf("this request may cost up to %s nanoTON but your channel to the proxy has %s left (deposit %s): lower max_tokens or open a new channel", amount, avail, deposited)}
	}
	if p.reserved[ch] == nil {
		p.reserved[ch] = new(big.Int)
	}
	p.reserved[ch].Add(p.reserved[ch], amount)
	return nil
}

// unreserve releases a reservation of a request that is not billed.
func (p *proxyState) unreserve(ch string, amount *big.Int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.unreserveLocked(ch, amount, nil)
}

// unreserveLocked releases a reservation and, when billed is non-nil,
// bills it; p.mu is held.
func (p *proxyState) unreserveLocked(ch string, amount, billed *big.Int) {
	if r := p.reserved[ch]; r != nil {
		r.Sub(r, amount)
		if r.Sign() <= 0 {
			delete(p.reserved, ch)
		}
	}
	if billed != nil {
		if p.billed[ch] == nil {
			p.billed[ch] = new(big.Int)
		}
		p.billed[ch].Add(p.billed[ch], billed)
		p.billedT.Add(p.billedT, billed)
	}
}

// ProxyStatus answers GET /api/v1/compute/proxy. Workers and Running are
// now; the counters and amounts cover the proxy's whole life on its store,
// restarts included.
type ProxyStatus struct {
	Enabled           bool    `json:"enabled"`
	Peer              string  `json:"peer"`
	CommissionPercent float64 `json:"commission_percent"`
	Workers           int     `json:"workers"` // live offers known
	Running           int     `json:"running"`
	Jobs              uint64  `json:"jobs"`    // answered completely
	Failed            uint64  `json:"failed"`  // failed after a worker started answering
	Retries           uint64  `json:"retries"` // workers that failed before their first record
	Refused           uint64  `json:"refused"` // refused before any worker ran (price, funds, model)
	Billed            string  `json:"billed"`  // nanoTON billed to clients, paid or not
	Received          string  `json:"received"`
	PaidWorkers       string  `json:"paid_workers"`
	Commission        string  `json:"commission"` // received − paid to workers
}

// ProxyStatus reports the proxy role.
func (s *Service) ProxyStatus() ProxyStatus {
	if s.proxy == nil {
		return ProxyStatus{Peer: s.self.String(), Billed: "0", Received: "0", PaidWorkers: "0", Commission: "0"}
	}
	p := s.proxy
	workers := len(s.table.live(time.Now()))
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.stats
	st.Enabled, st.Peer = true, s.self.String()
	st.CommissionPercent = float64(p.commissionBP) / 100
	st.Workers = workers
	for _, n := range p.inflight {
		st.Running += n
	}
	st.Billed, st.Received, st.PaidWorkers = p.billedT.String(), p.received.String(), p.paidOut.String()
	st.Commission = new(big.Int).Sub(p.received, p.paidOut).String()
	return st
}
