package compute

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/xssnick/tonutils-go/address"

	"github.com/tonmesh/tonmesh/compute/backend"
	"github.com/tonmesh/tonmesh/compute/seal"
	"github.com/tonmesh/tonmesh/ledger/journal"
)

// workerKey is one HPKE key of the worker, with its attestation.
type workerKey struct {
	priv     *seal.PrivateKey
	expiry   int64 // unix seconds
	evidence Evidence
}

// workerState is the worker role: keys, capacity and accounts.
type workerState struct {
	sem chan struct{} // one slot per running request

	mu       sync.Mutex
	keys     []*workerKey // newest last; expired ones dropped at rotation
	models   []OfferModel
	seen     map[string]int64    // request ID → key expiry: replays refused
	credited map[string]*big.Int // channel → payments credited to jobs
	stats    WorkerStatus
	earned   *big.Int
}

func newWorkerState(concurrency int) *workerState {
	return &workerState{
		sem:      make(chan struct{}, concurrency),
		seen:     make(map[string]int64),
		credited: make(map[string]*big.Int),
		earned:   new(big.Int),
	}
}

// current returns the newest key.
func (w *workerState) current() *workerKey {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.keys) == 0 {
		return nil
	}
	return w.keys[len(w.keys)-1]
}

// key returns the key with the given expiry.
func (w *workerState) key(expiry int64) *workerKey {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, k := range w.keys {
		if k.expiry == expiry {
			return k
		}
	}
	return nil
}

// rotateKey makes a new HPKE key, attested, when there is none or the
// current one expires within two offer lifetimes; it also refreshes the
// model list. Older keys are kept until they expire, so requests sealed to
// them still open.
func (s *Service) rotateKey(ctx context.Context, now time.Time) error {
	w := s.worker
	if cur := w.current(); cur != nil && time.Unix(cur.expiry, 0).Sub(now) > 2*s.cfg.OfferTTL {
		return nil
	}
	ms, err := s.cfg.Backend.Models(ctx)
	if err != nil {
		return fmt.Errorf("compute: list the backend's models: %w", err)
	}
	if len(ms) == 0 || len(ms) > maxModels {
		return fmt.Errorf("compute: the backend serves %d models; a worker offers 1 to %d", len(ms), maxModels)
	}
	models := make([]OfferModel, len(ms))
	for i, m := range ms {
		models[i] = OfferModel{ID: m.ID, WeightsHash: m.WeightsHash}
	}
	priv, err := seal.GenerateKey()
	if err != nil {
		return fmt.Errorf("compute: %w", err)
	}
	expiry := now.Add(s.cfg.KeyLifetime).Unix()
	ev, err := s.attestKey(ctx, priv.Public(), expiry, models)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	keep := w.keys[:0]
	for _, k := range w.keys {
		if k.expiry > now.Unix() {
			keep = append(keep, k)
		}
	}
	w.keys = append(keep, &workerKey{priv: priv, expiry: expiry, evidence: ev})
	w.models = models
	for id, exp := range w.seen {
		if exp <= now.Unix() {
			delete(w.seen, id)
		}
	}
	s.log.Info("worker key rotated", "expiry", time.Unix(expiry, 0).UTC(), "attestation", ev.Kind, "models", len(models))
	return nil
}

// publishOffer rotates the key when due and gossips the current offer.
func (s *Service) publishOffer(ctx context.Context) {
	now := time.Now()
	if err := s.rotateKey(ctx, now); err != nil {
		s.log.Warn("worker key rotation failed; keeping the current key", "err", err)
	}
	k := s.worker.current()
	if k == nil {
		return
	}
	s.worker.mu.Lock()
	models := s.worker.models
	s.worker.mu.Unlock()
	o := &Offer{
		Peer: s.self.String(), Models: models,
		PricePrompt: s.cfg.PricePrompt.String(), PriceCompletion: s.cfg.PriceCompletion.String(),
		Concurrency: s.cfg.Concurrency, Running: len(s.worker.sem),
		HPKEKey: k.priv.Public(), KeyExpiry: k.expiry, Evidence: k.evidence,
		Issued: now.UnixMilli(), Expires: now.Add(s.cfg.OfferTTL).UnixMilli(),
	}
	if err := s.publish(ctx, kindOffer, o); err != nil && ctx.Err() == nil {
		s.log.Warn("publishing the worker offer failed; retrying at the next interval", "err", err)
	}
}

// withdraw gossips a withdrawal of this worker's offers.
func (s *Service) withdraw() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.publish(ctx, kindWithdraw, &withdrawal{Peer: s.self.String(), Issued: time.Now().UnixMilli()}); err != nil {
		s.log.Debug("publishing the offer withdrawal failed; the offer will age out", "err", err)
	}
}

// innerRequest is what the client seals: the endpoint and the OpenAI body.
type innerRequest struct {
	Kind backend.Kind    `json:"kind"`
	Body json.RawMessage `json:"body"`
}

// workError is a failure the worker reports to the proxy before its first
// record (the proxy may then try another worker).
type workError struct {
	code, msg string
	sealed    []byte // a sealed error record for the client, when the request opened
}

func (e *workError) Error() string { return e.msg }

// serveWork serves WorkProtocol: one sealed request from a proxy.
func (s *Service) serveWork(ctx context.Context, st conn, from peer.ID) error {
	m, err := readMsg(st)
	if err != nil {
		return err
	}
	if err := m.expect(msgEnvelope); err != nil {
		return err
	}
	var head workHead
	if err := m.decodeHead(&head); err != nil {
		return err
	}
	env, err := seal.UnmarshalEnvelope(m.Body)
	if err != nil {
		return writeMsg(st, msgError, errorHead{Code: codeBadRequest, Message: err.Error()}, nil)
	}
	j, werr := s.admit(env, head, time.Now())
	if werr != nil {
		return writeMsg(st, msgError, errorHead{Code: werr.code, Message: werr.msg}, werr.sealed)
	}
	defer func() { j.release() }()
	return s.runJob(ctx, st, from, j)
}

// job is an admitted request.
type job struct {
	meta    seal.Meta
	req     *backend.Request
	sealer  *seal.ResponseSealer
	release func()
}

// admit checks, opens and parses a request and takes a slot for it.
func (s *Service) admit(env *seal.Envelope, head workHead, now time.Time) (*job, *workError) {
	w := s.worker
	meta := env.Meta
	if meta.Worker != s.names.of(s.self) {
		return nil, &workError{code: codeBadRequest, msg: fmt.Sprintf("the request is sealed for worker %s, not %s", meta.Worker, s.self)}
	}
	k := w.key(meta.KeyExpiry)
	if k == nil {
		return nil, &workError{code: codeBusy, msg: "the request is sealed to a key this worker no longer has: fetch its current offer"}
	}
	w.mu.Lock()
	served := false
	for _, m := range w.models {
		served = served || m.ID == meta.Model
	}
	_, replay := w.seen[meta.RequestID]
	if served && !replay {
		w.seen[meta.RequestID] = meta.KeyExpiry
	}
	w.mu.Unlock()
	if !served {
		return nil, &workError{code: codeNoWorker, msg: fmt.Sprintf("model %q is not served by this worker", meta.Model)}
	}
	if replay {
		return nil, &workError{code: codeBadRequest, msg: fmt.Sprintf("request %s was already run: a replay is refused", meta.RequestID)}
	}
	select {
	case w.sem <- struct{}{}:
	default:
		return nil, &workError{code: codeBusy, msg: fmt.Sprintf("worker is running %d requests, its limit", cap(w.sem))}
	}
	release := func() { <-w.sem }
	body, sealer, err := seal.OpenRequest(k.priv, env, now)
	if err != nil {
		release()
		return nil, &workError{code: codeBusy, msg: err.Error()}
	}
	refuse := func(msg string) (*job, *workError) {
		release()
		// The message may quote the request: it goes to the client sealed.
		rec, _ := sealer.Error(msg)
		return nil, &workError{codeBadRequest, "the worker refused the request (the sealed error says why)", rec}
	}
	var in innerRequest
	if err := decodeBody(body, &in); err != nil {
		return refuse("the sealed request is not a tonmesh request: " + err.Error())
	}
	req, err := backend.ParseRequest(in.Kind, in.Body)
	if err != nil {
		return refuse(err.Error())
	}
	if req.Model != meta.Model {
		return refuse(fmt.Sprintf("the request names model %q but was routed for %q", req.Model, meta.Model))
	}
	if head.MaxTokens > 0 && (req.MaxTokens <= 0 || req.MaxTokens > head.MaxTokens) {
		req.MaxTokens = head.MaxTokens
	}
	return &job{meta: meta, req: req, sealer: sealer, release: release}, nil
}

// runJob runs an admitted job, streams its sealed records, sends the final
// record with the receipt, then waits for the proxy's payment.
func (s *Service) runJob(ctx context.Context, st conn, proxy peer.ID, j *job) error {
	w := s.worker
	jobCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The proxy sends nothing until it pays; a read error means it has
	// gone (its client disconnected, or it failed): stop the backend.
	paid := make(chan *message, 1)
	go func() {
		m, err := readMsg(st)
		if err != nil {
			cancel()
			close(paid)
			return
		}
		paid <- m
	}()
	// Records go out through a group writer: those the backend produces
	// while one is being written leave together, and the final message
	// with them.
	out := newGroupWriter(st)
	r, err := s.doJob(jobCtx, out, j)
	if cerr := out.close(); err == nil && cerr != nil {
		err = fmt.Errorf("send the answer: %w", cerr)
	}
	if err != nil || r == nil {
		return err
	}
	w.mu.Lock()
	w.stats.Jobs++
	w.stats.PromptTokens += r.PromptTokens
	w.stats.CompletionTokens += r.CompletionTokens
	w.mu.Unlock()
	return s.awaitPayment(ctx, proxy, r, paid)
}

// doJob runs the backend and queues its sealed records on out, then the
// final message with the receipt, which it returns, or the error (a nil
// receipt: the job failed and nothing is owed).
func (s *Service) doJob(jobCtx context.Context, out *groupWriter, j *job) (*Receipt, error) {
	w := s.worker
	usage, err := s.cfg.Backend.Complete(jobCtx, j.req, func(chunk json.RawMessage) error {
		rec, err := j.sealer.Seal(chunk)
		if err != nil {
			return err
		}
		return writeMsg(out, msgRecord, nil, rec)
	})
	j.release()
	j.release = func() {}
	if err != nil {
		w.mu.Lock()
		w.stats.Failed++
		w.mu.Unlock()
		if jobCtx.Err() != nil {
			return nil, fmt.Errorf("request %s cancelled: %w", j.meta.RequestID, context.Cause(jobCtx))
		}
		s.log.Info("backend failed", "request", j.meta.RequestID, "err", err)
		rec, serr := j.sealer.Error(err.Error())
		if serr != nil {
			return nil, serr
		}
		return nil, writeMsg(out, msgError, errorHead{Code: codeWorker, Message: "the worker's backend failed (the sealed error says why)"}, rec)
	}
	r := &Receipt{Peer: s.names.of(s.self), RequestID: j.meta.RequestID, Model: j.meta.Model,
		PromptTokens: int64(usage.PromptTokens), CompletionTokens: int64(usage.CompletionTokens),
		PricePrompt: s.cfg.PricePrompt.String(), PriceCompletion: s.cfg.PriceCompletion.String()}
	receipt, err := sign(s.id.PeerKey, kindReceipt, r)
	if err != nil {
		return nil, err
	}
	tr, _ := json.Marshal(trailer{Usage: usage, Receipt: receipt})
	rec, err := j.sealer.Final(tr)
	if err != nil {
		return nil, err
	}
	if err := writeMsg(out, msgFinal, finalHead{Receipt: receipt}, rec); err != nil {
		return nil, err
	}
	return r, nil
}

// awaitPayment waits for the proxy's paid message and credits it if the
// voucher it names has arrived.
func (s *Service) awaitPayment(ctx context.Context, proxy peer.ID, r *Receipt, paid <-chan *message) error {
	if s.pay == nil || proxy == s.self {
		return nil // payments off, or this node is its own proxy: nothing to pay
	}
	var m *message
	select {
	case m = <-paid:
	case <-time.After(paymentWait):
	case <-ctx.Done():
	}
	if m == nil || m.expect(msgPaid) != nil {
		s.log.Warn("the proxy did not pay for a job", "proxy", proxy, "request", r.RequestID)
		return nil
	}
	var h paidHead
	if err := m.decodeHead(&h); err != nil {
		return err
	}
	amount, err := parsePrice(h.Amount)
	if err != nil || h.RequestID != r.RequestID {
		return fmt.Errorf("bad payment notice from %s: %v", proxy, err)
	}
	ch, err := address.ParseRawAddr(h.Channel)
	if err != nil {
		return fmt.Errorf("payment notice names channel %q: %w", h.Channel, err)
	}
	if err := s.credit(ch, amount); err != nil {
		s.log.Warn("payment for a job not credited", "proxy", proxy, "request", r.RequestID, "err", err)
		return nil
	}
	payload, _ := json.Marshal(map[string]any{"role": "worker", "model": r.Model,
		"prompt_tokens": r.PromptTokens, "completion_tokens": r.CompletionTokens})
	if err := s.record(ctx, journal.Entry{Kind: journal.KindJobPaid, Key: jobKey(r.RequestID),
		Amount: amount, Counterparty: s.names.of(proxy), Payload: payload}); err != nil {
		s.log.Warn("journaling a paid job failed", "request", r.RequestID, "err", err)
	}
	return nil
}

// credit counts amount as paid on ch if the vouchers received on ch cover
// it beyond what earlier jobs were credited.
func (s *Service) credit(ch *address.Address, amount *big.Int) error {
	_, paidOnChannel, err := s.pay.Incoming(ch)
	if err != nil {
		return err
	}
	w := s.worker
	w.mu.Lock()
	defer w.mu.Unlock()
	key := ch.StringRaw()
	done := w.credited[key]
	if done == nil {
		done = new(big.Int)
	}
	want := new(big.Int).Add(done, amount)
	if want.Cmp(paidOnChannel) > 0 {
		return fmt.Errorf("channel %s has %s nanoTON in vouchers; %s more claimed on %s already credited", key, paidOnChannel, amount, done)
	}
	w.credited[key] = want
	w.earned.Add(w.earned, amount)
	return nil
}

func jobKey(requestID string) string { return "compute:job:" + requestID }

// WorkerStatus answers GET /api/v1/compute/worker.
type WorkerStatus struct {
	Enabled          bool         `json:"enabled"`
	Peer             string       `json:"peer"`
	Models           []OfferModel `json:"models"`
	PricePrompt      string       `json:"price_prompt"`
	PriceCompletion  string       `json:"price_completion"`
	Concurrency      int          `json:"concurrency"`
	Running          int          `json:"running"`
	Jobs             uint64       `json:"jobs"`
	Failed           uint64       `json:"failed"`
	PromptTokens     int64        `json:"prompt_tokens"`
	CompletionTokens int64        `json:"completion_tokens"`
	Earned           string       `json:"earned"` // nanoTON, vouchers credited to jobs
	Attestation      string       `json:"attestation,omitempty"`
	KeyExpiry        *time.Time   `json:"key_expiry,omitempty"`
}

// WorkerStatus reports the worker role.
func (s *Service) WorkerStatus() WorkerStatus {
	if s.worker == nil {
		return WorkerStatus{Peer: s.self.String(), Models: []OfferModel{}, Earned: "0"}
	}
	w := s.worker
	k := w.current()
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.stats
	st.Enabled, st.Peer = true, s.self.String()
	st.Models = append([]OfferModel{}, w.models...)
	st.PricePrompt, st.PriceCompletion = s.cfg.PricePrompt.String(), s.cfg.PriceCompletion.String()
	st.Concurrency, st.Running = s.cfg.Concurrency, len(w.sem)
	st.Earned = w.earned.String()
	if k != nil {
		t := time.Unix(k.expiry, 0).UTC()
		st.Attestation, st.KeyExpiry = k.evidence.Kind, &t
	}
	return st
}
