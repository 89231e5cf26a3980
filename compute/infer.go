package compute

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/xssnick/tonutils-go/address"

	"github.com/tonmesh/tonmesh/compute/backend"
	"github.com/tonmesh/tonmesh/compute/seal"
	"github.com/tonmesh/tonmesh/ledger/journal"
)

// Error is a failed inference request as the client API reports it, in
// the OpenAI error shape.
type Error struct {
	Status  int    // HTTP status
	Type    string // OpenAI error type
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

func newError(code, msg string) *Error {
	e := &Error{Code: code, Message: msg, Type: "invalid_request_error", Status: http.StatusBadRequest}
	switch code {
	case codeNoWorker:
		e.Status, e.Type = http.StatusNotFound, "invalid_request_error"
	case codePriceCap:
		e.Status = http.StatusPaymentRequired
	case codeFunds:
		e.Status = http.StatusPaymentRequired
	case codeUnattested:
		e.Status = http.StatusForbidden
	case codeBusy:
		e.Status, e.Type = http.StatusServiceUnavailable, "server_error"
	case codeNoProxy:
		e.Status, e.Type = http.StatusServiceUnavailable, "server_error"
	case codeTimeout:
		e.Status, e.Type = http.StatusGatewayTimeout, "server_error"
	case codeWorker, codePayment:
		e.Status, e.Type = http.StatusBadGateway, "server_error"
	case codeInternal:
		e.Status, e.Type = http.StatusInternalServerError, "server_error"
	}
	return e
}

// inferRequest is one OpenAI request as the client node sends it.
type inferRequest struct {
	kind  backend.Kind
	body  []byte // the OpenAI JSON, tonmesh fields removed, max_tokens set
	model string
	// started, if set, is called when a worker is chosen (again on a retry).
	started   func(worker peer.ID, attestation string, confidential bool)
	stream    bool
	maxTokens int
	maxPrice  *big.Int // nil: no cap
}

// InferResult is how a request ended.
type InferResult struct {
	RequestID    string        `json:"request_id"`
	Usage        backend.Usage `json:"usage"`
	Cost         string        `json:"cost"` // nanoTON owed to the proxy for the answer, paid by voucher right after it
	Confidential bool          `json:"confidential"`
	Attestation  string        `json:"attestation"`
	Worker       string        `json:"worker"`
	Proxy        string        `json:"proxy"`
}

// watchdog cancels a request when its next record is late.
type watchdog struct {
	mu     sync.Mutex
	t      *time.Timer
	cancel context.CancelCauseFunc
}

// arm (re)starts the watchdog: past d, the request is cancelled with the
// error cause builds. It is built only then: it is re-armed on every
// record, and formatting the message (peer IDs in base58) each time cost
// more than the rest of arming.
func (w *watchdog) arm(d time.Duration, cause func() error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.t != nil {
		w.t.Stop()
	}
	w.t = time.AfterFunc(d, func() { w.cancel(cause()) })
}

func (w *watchdog) disarm() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.t != nil {
		w.t.Stop()
		w.t = nil
	}
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// infer sends req through a proxy to a worker, passing each chunk of the
// answer to emit, and pays for it. A proxy that does not answer (cannot be
// reached, breaks the stream or stays silent before the first byte of an
// answer) is marked down and the request goes on through the next one:
// nothing was answered, so nothing was billed or paid on that proxy, and
// the next one bills the answer it relays, once.
func (s *Service) infer(ctx context.Context, req *inferRequest, emit func(json.RawMessage) error) (*InferResult, error) {
	proxies, err := s.proxyOrder()
	if err != nil {
		return nil, err
	}
	ctx, cancelT := context.WithTimeoutCause(ctx, s.cfg.TotalTimeout,
		newError(codeTimeout, fmt.Sprintf("the request took longer than %v (compute.total_timeout)", s.cfg.TotalTimeout)))
	defer cancelT()
	fresh := false
	for i := 0; ; {
		c, res, err := s.inferVia(ctx, req, proxies[i], fresh, emit)
		var e *Error
		switch {
		case err == nil:
			s.health.markUp(c.proxy)
			return res, nil
		case !fresh && s.pay != nil && errors.As(err, &e) && e.Code == codeFunds && c.channel != nil:
			// The channel's deposit is spent: pay through a new one.
			fresh = true
			continue
		case (c.unanswered || c.declined) && ctx.Err() == nil:
			if c.unanswered {
				s.health.markDown(c.proxy, s.cfg.ProxyDownFor)
			}
			if i+1 < len(proxies) {
				s.health.failovers.Add(1)
				s.log.Info("proxy did not serve the request; trying the next", "proxy", c.proxy, "next", proxies[i+1], "request", c.id, "err", err)
				i, fresh = i+1, false
				continue
			}
		}
		if cause := context.Cause(ctx); cause != nil && ctx.Err() != nil {
			if errors.As(cause, &e) {
				return nil, e
			}
			return nil, fmt.Errorf("compute: request: %w", cause)
		}
		return nil, err
	}
}

// inferVia makes one attempt of req through proxy, under its own context
// so that a watchdog ends this attempt only and the next proxy may take
// over.
func (s *Service) inferVia(ctx context.Context, req *inferRequest, proxy peer.ID, fresh bool, emit func(json.RawMessage) error) (*clientCall, *InferResult, error) {
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	c := &clientCall{s: s, req: req, proxy: proxy, id: newRequestID(), emit: emit, dog: &watchdog{cancel: cancel}, freshChannel: fresh}
	res, err := c.run(actx)
	c.dog.disarm()
	if err != nil && actx.Err() != nil && ctx.Err() == nil {
		// The watchdog ended the attempt: its cause is the error.
		var e *Error
		if cause := context.Cause(actx); errors.As(cause, &e) {
			err = e
		}
	}
	switch {
	case c.answered:
		c.unanswered = false
	case actx.Err() != nil && ctx.Err() == nil:
		c.unanswered = true // no offer or first token in time
	}
	return c, res, err
}

// chooseProxy is the proxy a request tries first.
func (s *Service) chooseProxy() (peer.ID, error) {
	ids, err := s.proxyOrder()
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// clientCall is the state of one request on the client.
type clientCall struct {
	s     *Service
	req   *inferRequest
	proxy peer.ID
	id    string
	emit  func(json.RawMessage) error
	dog   *watchdog

	channel  *address.Address
	st       conn
	offer    *Offer
	worker   peer.ID
	pp, pc   *big.Int
	reserved *big.Int
	opener   *seal.ResponseOpener
	attested string
	conf     bool
	refused  string // why the client refused the last worker
	pre      *preseal
	settling bool // the stream is handed to the payment in the background

	freshChannel bool // open a new channel to the proxy first
	// unanswered is set when the proxy failed this request before the
	// first byte of an answer (a dial failure, a broken stream, silence):
	// another proxy may take it. answered is set by the first record or
	// final message, after which the request is this proxy's for good.
	unanswered, answered bool
	// declined is set when the proxy answered that it has no worker free
	// for the request: another proxy may have one.
	declined bool
}

func (c *clientCall) run(ctx context.Context) (*InferResult, error) {
	s := c.s
	// Reach the proxy before a channel to it is opened: a deposit is not
	// locked up in a channel to a proxy that is gone.
	dctx, dcancel := context.WithTimeout(ctx, s.cfg.ProxyTimeout)
	st, err := s.openConn(dctx, c.proxy, InferProtocol)
	dcancel()
	if err != nil {
		c.unanswered = true
		return nil, newError(codeNoProxy, fmt.Sprintf("cannot reach the proxy %s: %v", c.proxy, err))
	}
	if s.pay != nil && c.proxy != s.self {
		unlock := s.client.lock(c.proxy)
		ch, err := s.channelLocked(ctx, c.proxy, c.freshChannel)
		unlock()
		if err != nil {
			_ = st.Reset()
			return nil, newError(codeFunds, err.Error())
		}
		c.channel = ch
	}
	c.st = st
	stopReset := context.AfterFunc(ctx, func() { _ = st.Reset() })
	defer func() {
		if !c.settling {
			stopReset()
			_ = st.Close()
		}
	}()
	route := routeHead{RequestID: c.id, Model: c.req.model, MaxTokens: c.req.maxTokens, PromptBytes: len(c.req.body) + 64}
	if c.req.maxPrice != nil {
		route.MaxPrice = c.req.maxPrice.String()
	}
	if c.channel != nil {
		route.Channel = c.channel.StringRaw()
	}
	// Seal ahead to the worker this proxy picked last time: if it picks it
	// again, the envelope goes on at once, a round trip sooner.
	var presealed []byte
	if v := s.picks.get(c.proxy, c.req.model, time.Now()); v != nil {
		if env, opener, err := c.sealFor(v.offer, v.worker); err == nil {
			presealed, c.pre = env, &preseal{v: v, opener: opener}
		}
	}
	c.armSilence()
	if err := writeMsg(st, msgRoute, route, presealed); err != nil {
		c.unanswered = true
		return nil, newError(codeNoProxy, fmt.Sprintf("proxy %s: %v", c.proxy, err))
	}
	for {
		m, err := readMsg(st)
		if err != nil {
			c.unanswered = true // cleared by the caller if an answer had begun
			return nil, c.lost(err)
		}
		switch m.Type {
		case msgOffer:
			err = c.onOffer(ctx, m)
		case msgRetry:
			c.opener = nil
			c.armSilence()
		case msgRecord:
			c.answered = true
			err = c.onRecord(m)
		case msgFinal:
			c.answered = true
			res, owed, err := c.onFinal(m)
			if err == nil && owed != nil {
				c.settleLater(stopReset, owed)
			}
			return res, err
		case msgError:
			return nil, c.onError(m)
		default:
			return nil, newError(codeInternal, fmt.Sprintf("proxy %s broke the protocol: unexpected %s message", c.proxy, msgName(m.Type)))
		}
		if err != nil {
			if e := (*Error)(nil); !errors.As(err, &e) && !c.answered {
				c.unanswered = true // writing to the proxy failed
			}
			return nil, err
		}
	}
}

// armSilence bounds the wait for the proxy's offer by
// Config.ProxyTimeout: a proxy cut off after the stream opened is
// noticed then, not at the request's total timeout. The offer's arrival
// re-arms the watchdog for the worker's first token.
func (c *clientCall) armSilence() {
	d := c.s.cfg.ProxyTimeout
	c.dog.arm(d, func() error {
		return newError(codeNoProxy, fmt.Sprintf("proxy %s sent no offer within %v (compute.proxy_timeout); you are not charged", c.proxy, d))
	})
}

// lost explains a broken stream.
func (c *clientCall) lost(err error) error {
	if c.opener != nil {
		return newError(codeWorker, fmt.Sprintf("the answer from worker %s via proxy %s was cut off (%v); you are not charged", c.worker, c.proxy, err))
	}
	return newError(codeNoProxy, fmt.Sprintf("proxy %s closed the request: %v", c.proxy, err))
}

// onOffer verifies the offered worker and seals the request to it, or
// refuses it.
func (c *clientCall) onOffer(ctx context.Context, m *message) error {
	var h offerHead
	if err := m.decodeHead(&h); err != nil {
		return newError(codeInternal, err.Error())
	}
	now := time.Now()
	v, err, refused := c.s.checkOffer(ctx, h.Offer, now)
	var o *Offer
	var id peer.ID
	if err == nil {
		o, id = v.offer, v.worker
		if !o.serves(c.req.model) {
			err = fmt.Errorf("worker %s does not serve %s", id, c.req.model)
		}
	}
	var pp, pc, reserved *big.Int
	if err == nil {
		pp, err = parsePrice(h.PricePrompt)
	}
	if err == nil {
		pc, err = parsePrice(h.PriceCompletion)
	}
	if err == nil {
		reserved, err = parsePrice(h.Reserved)
	}
	if err != nil {
		return newError(codeInternal, fmt.Sprintf("proxy %s offered an invalid worker: %v", c.proxy, err))
	}
	if c.req.maxPrice != nil && capPrice(pp, pc).Cmp(c.req.maxPrice) > 0 {
		return newError(codePriceCap, fmt.Sprintf("proxy %s offered worker %s at %s nanoTON per 1M tokens, over your max_price %s", c.proxy, id, capPrice(pp, pc), c.req.maxPrice))
	}
	pre := c.pre
	c.pre = nil
	if h.Forwarded {
		// The proxy sent on the envelope sealed ahead: only for the very
		// worker and key it was sealed to.
		if pre == nil || refused != nil || pre.v.worker != id || !bytes.Equal(pre.v.offer.HPKEKey, o.HPKEKey) || pre.v.offer.KeyExpiry != o.KeyExpiry {
			return newError(codeInternal, fmt.Sprintf("proxy %s claims to have forwarded a request this client did not seal to worker %s", c.proxy, id))
		}
		c.s.client.forwarded.Add(1)
		c.accept(v, pp, pc, reserved, pre.opener)
		return nil
	}
	if refused != nil {
		c.refused = refused.Error()
		c.armSilence() // for the proxy's next offer
		return writeMsg(c.st, msgRefuse, refuseHead{Worker: c.s.names.of(id), Reason: refused.Error()}, nil)
	}
	env, opener, err := c.sealFor(o, id)
	if err != nil {
		return newError(codeBadRequest, err.Error())
	}
	c.accept(v, pp, pc, reserved, opener)
	return writeMsg(c.st, msgEnvelope, nil, env)
}

// preseal is a request sealed ahead to the worker a proxy picked last.
type preseal struct {
	v      *verifiedOffer
	opener *seal.ResponseOpener
}

// sealFor seals the request to worker id's key in offer o.
func (c *clientCall) sealFor(o *Offer, id peer.ID) ([]byte, *seal.ResponseOpener, error) {
	inner, _ := json.Marshal(innerRequest{Kind: c.req.kind, Body: c.req.body})
	meta := seal.Meta{Model: c.req.model, Worker: c.s.names.of(id), RequestID: c.id, KeyExpiry: o.KeyExpiry, Stream: c.req.stream}
	env, opener, err := seal.SealRequest(o.HPKEKey, meta, inner)
	if err != nil {
		return nil, nil, err
	}
	return env.Marshal(), opener, nil
}

// accept makes the verified worker v this request's, at the proxy's
// prices, and waits for its first record.
func (c *clientCall) accept(v *verifiedOffer, pp, pc, reserved *big.Int, opener *seal.ResponseOpener) {
	c.offer, c.worker, c.pp, c.pc, c.reserved, c.opener = v.offer, v.worker, pp, pc, reserved, opener
	c.attested, c.conf = string(v.result.Kind), v.result.Confidential
	c.s.picks.put(c.proxy, c.req.model, v)
	if c.req.started != nil {
		c.req.started(v.worker, c.attested, c.conf)
	}
	c.dog.arm(c.s.cfg.FirstTokenTimeout, func() error {
		return newError(codeTimeout, fmt.Sprintf("worker %s sent no first token within %v (compute.first_token_timeout); you are not charged", v.worker, c.s.cfg.FirstTokenTimeout))
	})
}

func (c *clientCall) onRecord(m *message) error {
	if c.opener == nil {
		return newError(codeInternal, fmt.Sprintf("proxy %s sent a record before a worker was chosen", c.proxy))
	}
	kind, payload, err := c.opener.Open(m.Body)
	if err != nil {
		return newError(codeWorker, fmt.Sprintf("a record from worker %s does not open (%v); you are not charged", c.worker, err))
	}
	if kind != seal.RecordData {
		return newError(codeWorker, fmt.Sprintf("worker %s sent a %s record outside a final message; you are not charged", c.worker, kind))
	}
	c.dog.arm(c.s.cfg.IdleTimeout, func() error {
		return newError(codeTimeout, fmt.Sprintf("worker %s went silent for %v mid-answer (compute.idle_timeout); you are not charged", c.worker, c.s.cfg.IdleTimeout))
	})
	if err := c.emit(json.RawMessage(payload)); err != nil {
		return fmt.Errorf("compute: deliver the answer: %w", err)
	}
	return nil
}

// onError turns the proxy's error (and the worker's sealed message, if
// any) into the client's error.
func (c *clientCall) onError(m *message) error {
	var h errorHead
	if err := m.decodeHead(&h); err != nil {
		return newError(codeInternal, fmt.Sprintf("proxy %s sent a malformed error: %v", c.proxy, err))
	}
	msg := h.Message
	if len(m.Body) > 0 && c.opener != nil {
		if kind, payload, err := c.opener.Open(m.Body); err == nil && kind == seal.RecordError {
			msg = fmt.Sprintf("worker %s: %s", c.worker, payload)
		}
	}
	c.declined = h.Code == codeNoWorker || h.Code == codeBusy
	if c.refused != "" && (h.Code == codeNoWorker || h.Code == codeBusy || h.Code == codePriceCap) {
		return newError(codeUnattested, fmt.Sprintf("%s (the proxy has no acceptable worker: %s)", c.refused, msg))
	}
	return newError(h.Code, msg)
}

// onFinal checks the final record and the receipt and returns the result,
// and the payment owed to the proxy (nil when nothing is owed).
func (c *clientCall) onFinal(m *message) (*InferResult, *owed, error) {
	c.dog.disarm()
	var h finalHead
	if err := m.decodeHead(&h); err != nil || c.opener == nil {
		return nil, nil, newError(codeWorker, fmt.Sprintf("proxy %s sent a malformed final message; you are not charged", c.proxy))
	}
	kind, payload, err := c.opener.Open(m.Body)
	if err != nil || kind != seal.RecordFinal {
		return nil, nil, newError(codeWorker, fmt.Sprintf("the final record from worker %s does not open (%v); you are not charged", c.worker, err))
	}
	var tr trailer
	if err := decodeBody(payload, &tr); err != nil || string(tr.Receipt) != string(h.Receipt) {
		return nil, nil, newError(codeWorker, fmt.Sprintf("worker %s's sealed receipt differs from the one the proxy relayed; not paying", c.worker))
	}
	r, err := openSealedReceipt(tr.Receipt, c.worker, c.offer, c.id, c.req.model, int64(c.req.maxTokens))
	if err != nil {
		return nil, nil, newError(codeWorker, fmt.Sprintf("worker %s: %v; not paying", c.worker, err))
	}
	b := billFor(r, c.pp, c.pc, c.reserved)
	res := &InferResult{RequestID: c.id, Usage: tr.Usage, Cost: b.client.String(), Confidential: c.conf,
		Attestation: c.attested, Worker: c.s.names.of(c.worker), Proxy: c.s.names.of(c.proxy)}
	res.Usage.PromptTokens, res.Usage.CompletionTokens = int(r.PromptTokens), int(r.CompletionTokens)
	res.Usage.TotalTokens = res.Usage.PromptTokens + res.Usage.CompletionTokens
	switch {
	case c.s.pay == nil:
		res.Cost = "0" // payments are off: nothing was paid
		return res, nil, nil
	case c.proxy == c.s.self:
		// This node is the proxy: it pays the worker (nothing if it is the
		// worker too) and no commission.
		res.Cost = b.worker.String()
		if c.worker == c.s.self {
			res.Cost = "0"
		}
		return res, nil, nil
	}
	return res, &owed{receipt: r, amount: b.client}, nil
}

// owed is what the client owes the proxy for one answer.
type owed struct {
	receipt *Receipt
	amount  *big.Int
}

// settleLater pays the proxy's bill for an answer the caller already has,
// in the background on the same stream, so the answer does not wait on
// the bill's synced write, the voucher and its round trips. The proxy
// counts the bill against the channel's deposit until the voucher covers
// it; Stop waits for payments in flight.
func (c *clientCall) settleLater(stopReset func() bool, o *owed) {
	if !stopReset() {
		c.s.log.Warn("the request was cancelled as its answer arrived; its bill stays unpaid", "proxy", c.proxy, "request", c.id)
		return
	}
	st := c.st
	c.settling = c.s.background(func(ctx context.Context) {
		defer context.AfterFunc(ctx, func() { _ = st.Reset() })()
		defer st.Close()
		if err := c.payBill(ctx, o.receipt, o.amount); err != nil {
			c.s.log.Warn("paying the proxy failed", "proxy", c.proxy, "request", c.id, "err", err)
		}
	})
}

// payBill checks the proxy's bill against the receipt and pays it.
func (c *clientCall) payBill(ctx context.Context, r *Receipt, amount *big.Int) error {
	m, err := readMsg(c.st)
	if err == nil {
		err = m.expect(msgBill)
	}
	var h billHead
	if err == nil {
		err = m.decodeHead(&h)
	}
	if err != nil {
		return newError(codePayment, fmt.Sprintf("proxy %s sent no bill (%v); nothing paid", c.proxy, err))
	}
	if h.RequestID != c.id || h.Amount != amount.String() {
		return newError(codePayment, fmt.Sprintf("proxy %s billed %s nanoTON, the receipt comes to %s: not paying", c.proxy, h.Amount, amount))
	}
	// The proxy reserved this request within the channel's deposit, so the
	// voucher fits on the channel the proxy checks.
	ph := paidHead{RequestID: c.id, Channel: c.channel.StringRaw(), Amount: amount.String()}
	if amount.Sign() > 0 {
		_, cum, err := c.s.rounds.pay(ctx, c.channel.StringRaw(), amount, func(ctx context.Context, total *big.Int) (*address.Address, *big.Int, error) {
			cum, err := c.s.pay.Pay(ctx, c.channel, total)
			return c.channel, cum, err
		})
		if err != nil {
			return newError(codePayment, fmt.Sprintf("paying proxy %s %s nanoTON failed: %v", c.proxy, amount, err))
		}
		ph.Cumulative = cum.String()
	}
	if err := writeMsg(c.st, msgPaid, ph, nil); err != nil {
		c.s.log.Warn("telling the proxy about a payment failed", "proxy", c.proxy, "err", err)
	} else if m, err := readMsg(c.st); err != nil || m.Type != msgDone {
		c.s.log.Debug("proxy did not confirm the payment", "proxy", c.proxy, "err", err)
	}
	payload, _ := json.Marshal(map[string]any{"role": "client", "worker": c.s.names.of(c.worker), "model": c.req.model,
		"prompt_tokens": r.PromptTokens, "completion_tokens": r.CompletionTokens})
	if err := c.s.record(ctx, journal.Entry{Kind: journal.KindJobPaid, Key: jobKey(c.id), Amount: amount,
		Counterparty: c.s.names.of(c.proxy), Payload: payload}); err != nil {
		c.s.log.Warn("journaling a paid job failed", "request", c.id, "err", err)
	}
	return nil
}
