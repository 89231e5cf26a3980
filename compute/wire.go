package compute

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/tonmesh/tonmesh/compute/seal"
	"github.com/tonmesh/tonmesh/internal/wire"
	"github.com/tonmesh/tonmesh/p2p"
)

// Stream message wire format, version 1. Every frame (p2p.WriteFrame) on the
// infer and work protocols carries one message:
//
//	version  1 byte, = 1
//	type     1 byte (msgRoute ... msgDone)
//	head     uvarint length, bytes: a JSON object, at most maxHead bytes
//	body     uvarint length, bytes: opaque (a sealed envelope or record), at most maxBody bytes
//
// No trailing bytes, minimal varints. Heads are decoded strictly (unknown
// fields and trailing data refused) into the type's head struct.
const (
	msgVersion = 1
	maxHead    = 64 << 10
	maxBody    = seal.MaxEnvelopeSize
	maxMsg     = 2 + 2*10 + maxHead + maxBody
)

// Message types.
const (
	msgRoute    byte = 1  // client → proxy: routeHead; body: optional envelope sealed to the worker the client expects
	msgOffer    byte = 2  // proxy → client: offerHead
	msgRefuse   byte = 3  // client → proxy: refuseHead (pick another worker)
	msgEnvelope byte = 4  // client → proxy (no head), proxy → worker (workHead); body: sealed envelope
	msgRecord   byte = 5  // worker → proxy → client; body: sealed record
	msgFinal    byte = 6  // worker → proxy → client: finalHead (receipt in clear); body: final sealed record
	msgRetry    byte = 7  // proxy → client: retryHead (the worker failed before its first record)
	msgError    byte = 8  // any direction: errorHead; body: optional sealed error record
	msgBill     byte = 9  // proxy → client: billHead
	msgPaid     byte = 10 // client → proxy, proxy → worker: paidHead
	msgDone     byte = 11 // proxy → client: the exchange is complete (no head)
	msgLast          = msgDone
)

var msgNames = [...]string{"", "route", "offer", "refuse", "envelope", "record", "final", "retry", "error", "bill", "paid", "done"}

// message is one decoded stream message.
type message struct {
	Type byte
	Head []byte
	Body []byte
}

func msgName(t byte) string {
	if int(t) < len(msgNames) && t != 0 {
		return msgNames[t]
	}
	return fmt.Sprintf("type %d", t)
}

func (m *message) encode() []byte {
	out := make([]byte, 0, 2+20+len(m.Head)+len(m.Body))
	out = append(out, msgVersion, m.Type)
	out = wire.AppendLenPrefixed(out, m.Head)
	return wire.AppendLenPrefixed(out, m.Body)
}

// decodeMessage strictly decodes one message. The result aliases b.
func decodeMessage(b []byte) (*message, error) {
	if len(b) > maxMsg {
		return nil, fmt.Errorf("compute message of %d bytes is over the limit of %d", len(b), maxMsg)
	}
	rd := wire.NewReader(b)
	if v := rd.Byte("version"); rd.Err() == nil && v != msgVersion {
		return nil, fmt.Errorf("compute message version %d is not supported (want %d): update tonmesh", v, msgVersion)
	}
	m := &message{Type: rd.Byte("type")}
	m.Head = rd.LenPrefixed("head", maxHead)
	m.Body = rd.LenPrefixed("body", maxBody)
	if err := rd.Finish(); err != nil {
		return nil, fmt.Errorf("decode compute message: %w", err)
	}
	if m.Type == 0 || m.Type > msgLast {
		return nil, fmt.Errorf("decode compute message: unknown type %d", m.Type)
	}
	return m, nil
}

// writeMsg encodes head (nil for none) as JSON and writes the message as one frame.
func writeMsg(w io.Writer, typ byte, head any, body []byte) error {
	m := &message{Type: typ, Body: body}
	if head != nil {
		h, err := json.Marshal(head)
		if err != nil {
			return fmt.Errorf("encode %s message: %w", msgName(typ), err)
		}
		m.Head = h
	}
	if err := p2p.WriteFrame(w, m.encode()); err != nil {
		return fmt.Errorf("send %s message: %w", msgName(typ), err)
	}
	return nil
}

// readMsg reads and decodes one message.
func readMsg(r io.Reader) (*message, error) {
	b, err := p2p.ReadFrame(r, maxMsg)
	if err != nil {
		return nil, err
	}
	return decodeMessage(b)
}

// decodeHead strictly decodes m's head into v.
func (m *message) decodeHead(v any) error {
	if len(m.Head) == 0 {
		return fmt.Errorf("%s message has no head", msgName(m.Type))
	}
	dec := json.NewDecoder(bytes.NewReader(m.Head))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s message head: %w", msgName(m.Type), err)
	}
	if dec.More() {
		return fmt.Errorf("%s message head: trailing data", msgName(m.Type))
	}
	return nil
}

// expect checks m's type.
func (m *message) expect(types ...byte) error {
	for _, t := range types {
		if m.Type == t {
			return nil
		}
	}
	names := make([]string, len(types))
	for i, t := range types {
		names[i] = msgName(t)
	}
	return fmt.Errorf("protocol error: got a %s message, want %v", msgName(m.Type), names)
}

// routeHead asks a proxy for a worker.
type routeHead struct {
	RequestID   string `json:"request_id"`
	Model       string `json:"model"`
	MaxPrice    string `json:"max_price,omitempty"` // nanoTON per 1M tokens, client prices; "" = no cap
	MaxTokens   int    `json:"max_tokens"`
	PromptBytes int    `json:"prompt_bytes"` // size of the request body, bounds its prompt tokens
	Channel     string `json:"channel,omitempty"`
}

// offerHead is the proxy's choice of worker, with the prices the client pays.
type offerHead struct {
	Offer           []byte `json:"offer"` // the worker's signed offer, as gossiped
	PricePrompt     string `json:"price_prompt"`
	PriceCompletion string `json:"price_completion"`
	CommissionBP    int    `json:"commission_bp"`
	Reserved        string `json:"reserved"` // the most this request may cost
	// Forwarded: the proxy picked the worker the client sealed its route
	// message's envelope to, and forwarded that envelope already; the
	// client sends none (set only when the client sent one).
	Forwarded bool `json:"forwarded,omitempty"`
}

type refuseHead struct {
	Worker string `json:"worker"`
	Reason string `json:"reason"`
}

// workHead goes with the envelope from proxy to worker.
type workHead struct {
	Channel   string `json:"channel,omitempty"` // the proxy's channel paying this worker
	MaxTokens int    `json:"max_tokens"`
}

// finalHead carries the worker's signed receipt in clear, so the proxy can
// bill without reading content.
type finalHead struct {
	Receipt []byte `json:"receipt"`
}

type retryHead struct {
	Worker string `json:"worker"`
	Reason string `json:"reason"`
}

// errorHead is a failure explained.
type errorHead struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type billHead struct {
	RequestID string `json:"request_id"`
	Amount    string `json:"amount"`
}

type paidHead struct {
	RequestID  string `json:"request_id"`
	Channel    string `json:"channel,omitempty"`
	Amount     string `json:"amount"`
	Cumulative string `json:"cumulative,omitempty"`
}

// Error codes carried in errorHead.Code and Error.Code.
const (
	codeNoWorker   = "no_worker"
	codePriceCap   = "max_price_too_low"
	codeFunds      = "insufficient_funds"
	codeBadRequest = "bad_request"
	codeBusy       = "worker_busy"
	codeWorker     = "worker_failed"
	codeTimeout    = "timeout"
	codeUnattested = "unattested_worker"
	codeInternal   = "internal"
	codeNoProxy    = "no_proxy"
	codePayment    = "payment_failed"
)
