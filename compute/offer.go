package compute

import (
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/compute/seal"
)

// Limits on offers.
const (
	maxModels       = 64
	maxModelID      = 128
	maxHashLen      = 128
	maxConcurrency  = 4096
	maxOfferTTL     = 10 * time.Minute
	maxKeyLifetime  = 7 * 24 * time.Hour
	maxQuote        = 40 << 10
	maxPriceDigits  = 30 // nanoTON per 1M tokens; far above any real price
	maxCommissionBP = 10_000
)

// OfferModel is one model a worker serves.
type OfferModel struct {
	ID          string `json:"id"`
	WeightsHash string `json:"weights_hash,omitempty"`
}

// Evidence is a worker's attestation as offers carry it: the kind
// ("tdx", "sev-snp", "none") and the quote or report.
type Evidence struct {
	Kind  string `json:"kind"`
	Quote []byte `json:"quote,omitempty"`
}

// Offer is what a worker gossips: signed by its peer key, valid until
// Expires.
type Offer struct {
	Peer            string       `json:"peer"` // the worker's peer ID (the signer)
	Models          []OfferModel `json:"models"`
	PricePrompt     string       `json:"price_prompt"`     // nanoTON per 1M prompt tokens
	PriceCompletion string       `json:"price_completion"` // nanoTON per 1M completion tokens
	Concurrency     int          `json:"concurrency"`
	Running         int          `json:"running"`
	HPKEKey         []byte       `json:"hpke_key"`
	KeyExpiry       int64        `json:"key_expiry"` // unix seconds
	Evidence        Evidence     `json:"evidence"`
	Issued          int64        `json:"issued"`  // unix milliseconds
	Expires         int64        `json:"expires"` // unix milliseconds
}

// withdrawal takes a worker's offers off every table.
type withdrawal struct {
	Peer   string `json:"peer"`
	Issued int64  `json:"issued"` // unix milliseconds
}

// proxyAnnouncement says a node routes requests, for what commission.
type proxyAnnouncement struct {
	Peer         string `json:"peer"`
	CommissionBP int    `json:"commission_bp"` // basis points of the worker's price
	Issued       int64  `json:"issued"`
	Expires      int64  `json:"expires"`
}

// parsePrice reads a non-negative decimal nanoTON amount.
func parsePrice(s string) (*big.Int, error) {
	if s == "" || len(s) > maxPriceDigits {
		return nil, fmt.Errorf("price %q: want a non-negative whole number of nanoTON per 1M tokens", s)
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return nil, fmt.Errorf("price %q: want a non-negative whole number of nanoTON per 1M tokens", s)
		}
	}
	if len(s) > 1 && s[0] == '0' {
		return nil, fmt.Errorf("price %q has leading zeros", s)
	}
	v, _ := new(big.Int).SetString(s, 10)
	return v, nil
}

func checkTimes(issued, expires int64, now time.Time) error {
	is, ex := time.UnixMilli(issued), time.UnixMilli(expires)
	switch {
	case issued <= 0 || expires <= issued:
		return fmt.Errorf("times: issued %d, expires %d", issued, expires)
	case ex.Sub(is) > maxOfferTTL:
		return fmt.Errorf("lifetime %v is over the limit of %v", ex.Sub(is), maxOfferTTL)
	case is.After(now.Add(maxSkew)):
		return fmt.Errorf("issued %v in the future", is.Sub(now))
	case !ex.After(now):
		return fmt.Errorf("expired %v ago", now.Sub(ex).Round(time.Millisecond))
	}
	return nil
}

// maxSkew is how far ahead of ours a peer's clock may be.
const maxSkew = 30 * time.Second

// check validates o's schema and times (not its signature or attestation).
func (o *Offer) check(now time.Time) error {
	if len(o.Models) == 0 || len(o.Models) > maxModels {
		return fmt.Errorf("offer lists %d models, want 1 to %d", len(o.Models), maxModels)
	}
	seen := make(map[string]bool, len(o.Models))
	for _, m := range o.Models {
		if m.ID == "" || len(m.ID) > maxModelID || len(m.WeightsHash) > maxHashLen {
			return fmt.Errorf("offer model %q: ID must be 1 to %d bytes, weights hash at most %d", m.ID, maxModelID, maxHashLen)
		}
		if seen[m.ID] {
			return fmt.Errorf("offer lists model %q twice", m.ID)
		}
		seen[m.ID] = true
	}
	if _, err := parsePrice(o.PricePrompt); err != nil {
		return fmt.Errorf("offer prompt %w", err)
	}
	if _, err := parsePrice(o.PriceCompletion); err != nil {
		return fmt.Errorf("offer completion %w", err)
	}
	if o.Concurrency < 1 || o.Concurrency > maxConcurrency || o.Running < 0 || o.Running > maxConcurrency {
		return fmt.Errorf("offer concurrency %d / running %d out of range", o.Concurrency, o.Running)
	}
	if _, err := seal.ParsePublicKey(o.HPKEKey); err != nil {
		return fmt.Errorf("offer HPKE key: %w", err)
	}
	if o.Evidence.Kind == "" || len(o.Evidence.Kind) > 32 || len(o.Evidence.Quote) > maxQuote {
		return errors.New("offer attestation evidence: kind must be 1 to 32 bytes, quote at most 40 KiB")
	}
	return o.fresh(now)
}

// fresh checks the times of an offer: it is valid now and its key has not
// expired.
func (o *Offer) fresh(now time.Time) error {
	if err := checkTimes(o.Issued, o.Expires, now); err != nil {
		return fmt.Errorf("offer %w", err)
	}
	ke := time.Unix(o.KeyExpiry, 0)
	if !ke.After(now) || ke.After(now.Add(maxKeyLifetime+maxSkew)) {
		return fmt.Errorf("offer key expiry %v is not within the next %v", ke.UTC().Format(time.RFC3339), maxKeyLifetime)
	}
	return nil
}

// serves reports whether o offers model.
func (o *Offer) serves(model string) bool {
	for _, m := range o.Models {
		if m.ID == model {
			return true
		}
	}
	return false
}

func (o *Offer) prices() (pp, pc *big.Int) {
	pp, _ = parsePrice(o.PricePrompt)
	pc, _ = parsePrice(o.PriceCompletion)
	return pp, pc
}

// openOffer verifies a signed offer and checks it, as of now.
func openOffer(b []byte, now time.Time) (*Offer, peer.ID, error) {
	var o Offer
	id, err := openSigned(b, kindOffer, &o)
	if err != nil {
		return nil, "", fmt.Errorf("offer: %w", err)
	}
	if err := o.check(now); err != nil {
		return nil, "", err
	}
	return &o, id, nil
}

func (w *withdrawal) check(now time.Time) error {
	is := time.UnixMilli(w.Issued)
	if w.Issued <= 0 || is.After(now.Add(maxSkew)) || now.Sub(is) > maxOfferTTL {
		return fmt.Errorf("withdrawal issued at %d is not recent", w.Issued)
	}
	return nil
}

func (p *proxyAnnouncement) check(now time.Time) error {
	if p.CommissionBP < 0 || p.CommissionBP > maxCommissionBP {
		return fmt.Errorf("proxy commission %d basis points out of range 0..%d", p.CommissionBP, maxCommissionBP)
	}
	if err := checkTimes(p.Issued, p.Expires, now); err != nil {
		return fmt.Errorf("proxy announcement %w", err)
	}
	return nil
}

// gossipItem is a validated message of the offers topic.
type gossipItem struct {
	signer   peer.ID
	kind     byte
	raw      []byte // the signed statement as received
	offer    *Offer
	withdraw *withdrawal
	proxy    *proxyAnnouncement
}

// decodeGossip decodes, verifies and checks a message of the offers topic.
// from is the gossip origin, which must be the signer.
func decodeGossip(b []byte, from peer.ID, now time.Time) (*gossipItem, error) {
	s, err := decodeSigned(b)
	if err != nil {
		return nil, err
	}
	signer, err := signerOf(s.Body)
	if err != nil {
		return nil, err
	}
	id, err := s.verify(signer)
	if err != nil {
		return nil, err
	}
	if from != "" && id != from {
		return nil, fmt.Errorf("statement signed by %s but published by %s", id, from)
	}
	it := &gossipItem{signer: id, kind: s.Kind, raw: b}
	switch s.Kind {
	case kindOffer:
		it.offer = new(Offer)
		if err = decodeBody(s.Body, it.offer); err == nil {
			err = it.offer.check(now)
		}
	case kindWithdraw:
		it.withdraw = new(withdrawal)
		if err = decodeBody(s.Body, it.withdraw); err == nil {
			err = it.withdraw.check(now)
		}
	case kindProxy:
		it.proxy = new(proxyAnnouncement)
		if err = decodeBody(s.Body, it.proxy); err == nil {
			err = it.proxy.check(now)
		}
	default:
		err = fmt.Errorf("a statement of kind %d does not belong on the offers topic", s.Kind)
	}
	if err != nil {
		return nil, err
	}
	return it, nil
}
