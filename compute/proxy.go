package compute

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/xssnick/tonutils-go/address"

	"github.com/tonmesh/tonmesh/compute/seal"
	"github.com/tonmesh/tonmesh/ledger/journal"
)

// maxAttempts bounds the workers one request is offered to.
const maxAttempts = 4

// inbox reads a client's messages in the background, so that a client
// that goes away cancels the request at once, whatever the proxy is doing.
type inbox struct {
	msgs chan *message
	err  error // set before msgs is closed
	// answered is set before the final record goes to the client: from
	// then on the client may leave (it has its answer), and its leaving
	// no longer cancels the request, whose settlement goes on.
	answered atomic.Bool
}

func (s *Service) readInbox(ctx context.Context, cancel context.CancelCauseFunc, st conn) *inbox {
	in := &inbox{msgs: make(chan *message)}
	go func() {
		defer close(in.msgs)
		for {
			m, err := readMsg(st)
			if err != nil {
				in.err = err
				if !in.answered.Load() {
					cancel(fmt.Errorf("the client went away: %w", err))
				}
				return
			}
			select {
			case in.msgs <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	return in
}

// next waits for the client's next message.
func (in *inbox) next(ctx context.Context, timeout time.Duration) (*message, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case m, ok := <-in.msgs:
		if !ok {
			return nil, fmt.Errorf("the client went away: %w", in.err)
		}
		return m, nil
	case <-t.C:
		return nil, fmt.Errorf("the client sent nothing for %v", timeout)
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// proxyRequest is one client request as the proxy handles it.
type proxyRequest struct {
	client   peer.ID
	route    routeHead
	maxPrice *big.Int
	channel  *address.Address // nil when payments are off
	chKey    string
	// presealed is the envelope the client sealed, with its route, to the
	// worker it expects; used if the first pick is that worker.
	presealed []byte
}

// serveInfer serves InferProtocol: route a client's request to a worker,
// relay the sealed answer, bill the client and pay the worker.
func (s *Service) serveInfer(ctx context.Context, raw conn, client peer.ID) error {
	st := s.tapConn(raw)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	m, err := readMsg(st)
	if err != nil {
		return err
	}
	if err := m.expect(msgRoute); err != nil {
		return err
	}
	pr := &proxyRequest{client: client, presealed: m.Body}
	if err := m.decodeHead(&pr.route); err != nil {
		return err
	}
	if rerr := s.checkRoute(pr); rerr != nil {
		s.countRefused()
		return writeMsg(st, msgError, errorHead{Code: rerr.code, Message: rerr.msg}, nil)
	}
	in := s.readInbox(ctx, cancel, st)
	exclude := make(map[peer.ID]bool)
	for attempt := 0; ; attempt++ {
		c, rerr := s.pick(pr.route.Model, pr.maxPrice, exclude, time.Now())
		if rerr == nil && attempt >= maxAttempts {
			rerr = &routeError{codeNoWorker, fmt.Sprintf("%d workers failed or were refused for this request: giving up", attempt)}
		}
		if rerr != nil {
			s.countRefused()
			return writeMsg(st, msgError, errorHead{Code: rerr.code, Message: rerr.msg}, nil)
		}
		exclude[c.id] = true
		done, err := s.attempt(ctx, st, in, pr, c)
		if done || err != nil {
			return err
		}
	}
}

// checkRoute validates a route request and the client's channel.
func (s *Service) checkRoute(pr *proxyRequest) *routeError {
	r := &pr.route
	switch {
	case r.RequestID == "" || len(r.RequestID) > seal.MaxMetaField:
		return &routeError{codeBadRequest, "request ID must be 1 to 256 bytes"}
	case r.Model == "" || len(r.Model) > maxModelID:
		return &routeError{codeBadRequest, "model must be 1 to 128 bytes"}
	case r.MaxTokens <= 0 || r.MaxTokens > 1<<20:
		return &routeError{codeBadRequest, fmt.Sprintf("max_tokens %d out of range 1..%d", r.MaxTokens, 1<<20)}
	case r.PromptBytes < 0 || r.PromptBytes > seal.MaxEnvelopeSize:
		return &routeError{codeBadRequest, "prompt size out of range"}
	}
	if r.MaxPrice != "" {
		p, err := parsePrice(r.MaxPrice)
		if err != nil {
			return &routeError{codeBadRequest, "max_price: " + err.Error()}
		}
		pr.maxPrice = p
	}
	if s.pay == nil || pr.client == s.self {
		return nil // payments off, or this node is its own client: nothing to bill
	}
	ch, err := address.ParseRawAddr(r.Channel)
	if err != nil {
		return &routeError{codeFunds, "name the payment channel you opened to this proxy (channel): " + err.Error()}
	}
	_, paid, err := s.pay.Incoming(ch)
	if err != nil {
		return &routeError{codeFunds, fmt.Sprintf("channel %s does not pay this proxy: %v", r.Channel, err)}
	}
	if err := s.proxy.bindChannel(ch.StringRaw(), pr.client, paid); err != nil {
		return &routeError{codeFunds, err.Error()}
	}
	pr.channel, pr.chKey = ch, ch.StringRaw()
	return nil
}

func (s *Service) countRefused() {
	s.proxy.mu.Lock()
	s.proxy.stats.Refused++
	s.proxy.mu.Unlock()
}

// attempt offers worker c to the client and, if it accepts, forwards the
// request. done is false when the next worker should be tried.
func (s *Service) attempt(ctx context.Context, st conn, in *inbox, pr *proxyRequest, c *candidate) (done bool, err error) {
	maxCost := cost(promptTokenBound(pr.route.PromptBytes), int64(pr.route.MaxTokens), c.pp, c.pc)
	if pr.channel != nil {
		dep, paid, err := s.pay.Incoming(pr.channel)
		if err != nil {
			return true, writeMsg(st, msgError, errorHead{Code: codeFunds, Message: err.Error()}, nil)
		}
		if rerr := s.proxy.reserve(pr.chKey, dep, paid, maxCost); rerr != nil {
			s.countRefused()
			return true, writeMsg(st, msgError, errorHead{Code: rerr.code, Message: rerr.msg}, nil)
		}
	}
	reserved := pr.channel != nil
	defer func() {
		if reserved {
			s.proxy.unreserve(pr.chKey, maxCost)
		}
	}()
	head := offerHead{Offer: c.lo.raw, PricePrompt: c.pp.String(), PriceCompletion: c.pc.String(),
		CommissionBP: s.proxy.commissionBP, Reserved: maxCost.String()}
	envelope := pr.takePresealed(s.names.of(c.id))
	head.Forwarded = envelope != nil
	if err := writeMsg(st, msgOffer, head, nil); err != nil {
		return true, err
	}
	if envelope == nil {
		m, err := in.next(ctx, s.cfg.FirstTokenTimeout)
		if err != nil {
			return true, err
		}
		if m.Type == msgRefuse {
			return false, nil
		}
		if err := m.expect(msgEnvelope); err != nil {
			return true, err
		}
		envelope = m.Body
	}
	if err := pr.checkEnvelope(envelope, s.names.of(c.id)); err != nil {
		return true, writeMsg(st, msgError, errorHead{Code: codeBadRequest, Message: err.Error()}, nil)
	}
	res := s.relay(ctx, st, in, pr, c, envelope)
	switch {
	case res.retry != "":
		s.proxy.mu.Lock()
		s.proxy.stats.Retries++
		s.proxy.mu.Unlock()
		s.log.Info("worker failed before answering; trying another", "worker", c.id, "request", pr.route.RequestID, "reason", res.retry)
		return false, writeMsg(st, msgRetry, retryHead{Worker: c.id.String(), Reason: res.retry}, nil)
	case res.err != nil:
		s.proxy.mu.Lock()
		s.proxy.stats.Failed++
		s.proxy.mu.Unlock()
		s.log.Info("request failed", "worker", c.id, "request", pr.route.RequestID, "err", res.err)
		if res.told {
			return true, nil // close the stream cleanly so the explanation arrives
		}
		return true, res.err
	}
	b := billFor(res.receipt, c.pp, c.pc, maxCost)
	if reserved {
		// The bill is durable before the client sees it.
		reserved = false
		billedAt, cerr := s.proxy.charge(pr.chKey, maxCost, b.client)
		defer s.proxy.closeBill(pr.chKey)
		if cerr != nil {
			// No bill goes out that a restart could forget; the job still
			// counts against the client's deposit in memory.
			s.log.Error("the bill is not durable: not sending it", "channel", pr.chKey, "request", pr.route.RequestID, "amount", b.client, "err", cerr)
		} else {
			b.billedAt = billedAt
		}
	} else {
		s.proxy.mu.Lock()
		s.proxy.stats.Jobs++ // written with the next bill or at Stop
		s.proxy.mu.Unlock()
	}
	return true, s.settle(ctx, st, in, pr, c, res, b)
}

// takePresealed returns the client's pre-sealed envelope if it is sealed
// to worker, once; nil otherwise (the client then seals for the offer).
func (pr *proxyRequest) takePresealed(worker string) []byte {
	env := pr.presealed
	pr.presealed = nil
	if len(env) == 0 {
		return nil
	}
	if e, err := seal.UnmarshalEnvelope(env); err != nil || e.Meta.Worker != worker {
		return nil
	}
	return env
}

// checkEnvelope checks that a client's envelope is for this request and
// worker and within the size it announced.
func (pr *proxyRequest) checkEnvelope(body []byte, worker string) error {
	env, err := seal.UnmarshalEnvelope(body)
	if err != nil {
		return err
	}
	if env.Meta.Worker != worker || env.Meta.Model != pr.route.Model || env.Meta.RequestID != pr.route.RequestID ||
		len(body) > pr.route.PromptBytes+64<<10 {
		return errors.New("the envelope's metadata or size does not match the route request")
	}
	return nil
}

// relayResult is how a forwarded request ended.
type relayResult struct {
	receipt *Receipt
	ws      conn // the worker stream, open for the payment notice
	wch     *address.Address
	retry   string // the worker failed before its first record: try another
	err     error  // failed after the first record
	told    bool   // the client was told about err
}

// relay forwards the envelope to the worker and its records to the client.
func (s *Service) relay(ctx context.Context, st conn, in *inbox, pr *proxyRequest, c *candidate, envelope []byte) relayResult {
	var wch *address.Address
	if s.pay != nil && c.id != s.self {
		var err error
		if wch, err = s.channelTo(ctx, c.id); err != nil {
			return relayResult{retry: "cannot open a payment channel to the worker: " + err.Error()}
		}
	}
	raw, err := s.openConn(ctx, c.id, WorkProtocol)
	if err != nil {
		return relayResult{retry: "cannot reach the worker: " + err.Error()}
	}
	ws := s.tapConn(raw)
	stop := context.AfterFunc(ctx, func() { _ = raw.Reset() })
	s.proxy.started(c.id)
	start := time.Now()
	res := s.relayRecords(ctx, st, ws, in, pr, c, envelope, wch)
	s.proxy.finished(c.id, time.Since(start), res.receipt != nil)
	if res.receipt == nil || !stop() {
		_ = raw.Reset()
		if res.receipt != nil {
			res = relayResult{err: context.Cause(ctx)}
		}
		return res
	}
	res.ws, res.wch = ws, wch
	return res
}

func (s *Service) relayRecords(ctx context.Context, st, ws conn, in *inbox, pr *proxyRequest, c *candidate, envelope []byte, wch *address.Address) relayResult {
	head := workHead{MaxTokens: pr.route.MaxTokens}
	if wch != nil {
		head.Channel = wch.StringRaw()
	}
	if err := writeMsg(ws, msgEnvelope, head, envelope); err != nil {
		return relayResult{retry: err.Error()}
	}
	first := true
	// Records that arrive together go to the client in one write.
	out := &frameBatch{to: st}
	for {
		wait := s.cfg.IdleTimeout
		if first {
			wait = s.cfg.FirstTokenTimeout
		}
		_ = ws.SetReadDeadline(time.Now().Add(wait))
		m, err := readMsg(ws)
		if m == nil || (m.Type != msgRecord && m.Type != msgFinal) {
			if ferr := out.flush(); ferr != nil {
				return relayResult{err: ferr}
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return relayResult{err: context.Cause(ctx)}
			}
			if first {
				return relayResult{retry: "the worker stopped before answering: " + err.Error()}
			}
			return s.failClient(st, codeWorker, fmt.Sprintf("worker %s failed mid-answer (%v); you are not charged for this request", c.id, err), nil)
		}
		switch m.Type {
		case msgRecord:
			first = false
			err := writeMsg(out, msgRecord, nil, m.Body)
			if err == nil && !hasPending(ws) {
				err = out.flush()
			}
			if err != nil {
				return relayResult{err: err}
			}
		case msgFinal:
			var fh finalHead
			if err := m.decodeHead(&fh); err != nil {
				return s.flushFail(out, st, codeWorker, "the worker's final message is malformed; you are not charged")
			}
			r, err := openReceipt(fh.Receipt, c.id, c.lo.offer, pr.route.RequestID, pr.route.Model, int64(pr.route.MaxTokens))
			if err != nil {
				return s.flushFail(out, st, codeWorker, fmt.Sprintf("the worker's usage receipt is invalid (%v); you are not charged", err))
			}
			in.answered.Store(true)
			err = writeMsg(out, msgFinal, fh, m.Body) // with the records before it, in one write
			if err == nil {
				err = out.flush()
			}
			if err != nil {
				return relayResult{err: err}
			}
			return relayResult{receipt: r}
		case msgError:
			var eh errorHead
			_ = m.decodeHead(&eh)
			if first && !(eh.Code == codeBadRequest && len(m.Body) > 0) {
				return relayResult{retry: fmt.Sprintf("%s: %s", eh.Code, eh.Message)}
			}
			return s.failClient(st, eh.Code, fmt.Sprintf("worker %s: %s; you are not charged for this request", c.id, eh.Message), m.Body)
		default:
			return s.failClient(st, codeWorker, fmt.Sprintf("worker %s broke the protocol (a %s message); you are not charged", c.id, msgName(m.Type)), nil)
		}
	}
}

// flushFail sends the records gathered in out, then fails the client.
func (s *Service) flushFail(out *frameBatch, st conn, code, msg string) relayResult {
	if err := out.flush(); err != nil {
		return relayResult{err: err}
	}
	return s.failClient(st, code, msg, nil)
}

// failClient tells the client its request failed (with the worker's sealed
// error record, if any).
func (s *Service) failClient(st conn, code, msg string, sealed []byte) relayResult {
	err := writeMsg(st, msgError, errorHead{Code: code, Message: msg}, sealed)
	if err == nil {
		return relayResult{err: errors.New(msg), told: true}
	}
	return relayResult{err: err}
}

// settle bills the client, waits for its voucher, then pays the worker.
// A node that is its own client pays only the worker; one that is its own
// worker pays nobody.
func (s *Service) settle(ctx context.Context, st conn, in *inbox, pr *proxyRequest, c *candidate, res relayResult, b bill) error {
	defer res.ws.Close()
	if s.pay == nil {
		return nil
	}
	id := pr.route.RequestID
	// The worker did the job: it is paid whether or not the client pays,
	// so both payments go on at once, on their own streams.
	payCtx, cancel := context.WithTimeout(s.runCtx, paymentWait)
	defer cancel()
	workerPaid := new(big.Int)
	var paying sync.WaitGroup
	if c.id != s.self {
		paying.Go(func() {
			if err := s.payWorker(payCtx, res, c.id, id, b.worker); err != nil {
				s.log.Error("paying the worker failed", "worker", c.id, "request", id, "amount", b.worker, "err", err)
			} else {
				workerPaid = b.worker
			}
		})
	}
	received := false
	if pr.channel != nil && b.billedAt != nil {
		if err := writeMsg(st, msgBill, billHead{RequestID: id, Amount: b.client.String()}, nil); err != nil {
			s.log.Warn("client left before its bill", "client", pr.client, "request", id, "err", err)
		}
		if received = s.awaitClientPayment(ctx, in, pr, b); received {
			_ = writeMsg(st, msgDone, nil, nil)
		}
	}
	paying.Wait()
	// The received and paid-out counters go to the book with the next bill
	// (or at Stop): they are not money (the vouchers are, and are durable
	// in the ledger), so they need no write of their own.
	amount, counterparty := b.client, s.names.of(pr.client)
	switch {
	case pr.channel == nil:
		amount, counterparty = workerPaid, s.names.of(c.id) // this node was the client
	case !received:
		return nil
	}
	payload, _ := json.Marshal(map[string]any{"role": "proxy", "worker": s.names.of(c.id), "model": pr.route.Model,
		"worker_paid": workerPaid.String(), "commission": new(big.Int).Sub(amount, workerPaid).String(),
		"prompt_tokens": res.receipt.PromptTokens, "completion_tokens": res.receipt.CompletionTokens})
	if err := s.record(payCtx, journal.Entry{Kind: journal.KindJobPaid, Key: jobKey(id), Amount: amount,
		Counterparty: counterparty, Payload: payload}); err != nil {
		s.log.Warn("journaling a paid job failed", "request", id, "err", err)
	}
	return nil
}

// payWorker pays the worker its share by voucher and tells it on the work
// stream.
func (s *Service) payWorker(ctx context.Context, res relayResult, worker peer.ID, id string, amount *big.Int) error {
	if amount.Sign() == 0 {
		return writeMsg(res.ws, msgPaid, paidHead{RequestID: id, Channel: res.wch.StringRaw(), Amount: "0"}, nil)
	}
	ch, cum, err := s.rounds.pay(ctx, res.wch.StringRaw(), amount, func(ctx context.Context, total *big.Int) (*address.Address, *big.Int, error) {
		return s.payOn(ctx, worker, res.wch, total)
	})
	if err != nil {
		return err
	}
	s.proxy.mu.Lock()
	s.proxy.paidOut.Add(s.proxy.paidOut, amount)
	s.proxy.mu.Unlock()
	ph := paidHead{RequestID: id, Channel: ch.StringRaw(), Amount: amount.String()}
	if cum != nil {
		ph.Cumulative = cum.String()
	}
	return writeMsg(res.ws, msgPaid, ph, nil)
}

// awaitClientPayment waits for the client's paid message and checks that
// its vouchers now cover everything billed on the channel up to and with
// this bill (bills of requests still running beside it may come later).
func (s *Service) awaitClientPayment(ctx context.Context, in *inbox, pr *proxyRequest, b bill) bool {
	amount := b.client
	m, err := in.next(ctx, paymentWait)
	if err == nil {
		err = m.expect(msgPaid)
	}
	if err != nil {
		s.log.Warn("client did not pay", "client", pr.client, "request", pr.route.RequestID, "amount", amount, "err", err)
		return false
	}
	wait := time.NewTimer(paymentWait)
	defer wait.Stop()
	for {
		_, paid, err := s.pay.Incoming(pr.channel)
		if err != nil {
			s.log.Warn("reading the client's channel failed", "channel", pr.chKey, "err", err)
			return false
		}
		covered, others, changed := s.proxy.observe(pr.chKey, paid, b.billedAt)
		if covered {
			s.proxy.mu.Lock()
			s.proxy.received.Add(s.proxy.received, amount)
			s.proxy.mu.Unlock()
			return true
		}
		if !others {
			s.log.Warn("client's vouchers do not cover its bills", "client", pr.client, "paid", paid, "billed", b.billedAt)
			return false
		}
		// An earlier bill on the channel is not paid yet: its voucher
		// will cover this one too.
		select {
		case <-changed:
		case <-wait.C:
			s.log.Warn("client's vouchers did not come to cover its bills", "client", pr.client, "paid", paid, "billed", b.billedAt)
			return false
		case <-ctx.Done():
			return false
		}
	}
}
