package compute

import (
	"fmt"
	"math"
	"math/big"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/compute/backend"
)

// perMillion is the unit prices are quoted in: nanoTON per 1M tokens.
var perMillion = big.NewInt(1_000_000)

// cost is ceil((prompt × pp + completion × pc) / 1e6) nanoTON.
func cost(prompt, completion int64, pp, pc *big.Int) *big.Int {
	t := new(big.Int).Mul(big.NewInt(prompt), pp)
	t.Add(t, new(big.Int).Mul(big.NewInt(completion), pc))
	return ceilDiv(t, perMillion)
}

func ceilDiv(a, b *big.Int) *big.Int {
	q, r := new(big.Int).QuoRem(a, b, new(big.Int))
	if r.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	return q
}

// withCommission is the price a client pays for a worker price p:
// ceil(p × (10000 + bp) / 10000).
func withCommission(p *big.Int, bp int) *big.Int {
	t := new(big.Int).Mul(p, big.NewInt(int64(10_000+bp)))
	return ceilDiv(t, big.NewInt(10_000))
}

// commissionBP converts a percentage to basis points, clamped to 0..100 %.
func commissionBP(percent float64) int {
	if math.IsNaN(percent) || percent < 0 {
		return 0
	}
	return int(math.Min(math.Round(percent*100), maxCommissionBP))
}

// capPrice is the figure compared with a client's cap: the higher of the
// prompt and completion prices.
func capPrice(pp, pc *big.Int) *big.Int {
	if pp.Cmp(pc) > 0 {
		return pp
	}
	return pc
}

// promptTokenBound bounds the prompt tokens of a request of n bytes: no
// tokenizer makes more tokens than bytes, plus a few special tokens.
func promptTokenBound(n int) int64 { return int64(n) + 16 }

// Receipt is the worker's signed account of one request. Its prices are
// the worker's (without commission).
type Receipt struct {
	Peer             string `json:"peer"` // the worker (the signer)
	RequestID        string `json:"request_id"`
	Model            string `json:"model"`
	PromptTokens     int64  `json:"prompt_tokens"`
	CompletionTokens int64  `json:"completion_tokens"`
	PricePrompt      string `json:"price_prompt"`
	PriceCompletion  string `json:"price_completion"`
}

// trailer is the payload of the worker's final sealed record.
type trailer struct {
	Usage   backend.Usage `json:"usage"`
	Receipt []byte        `json:"receipt"` // the same signed bytes as in finalHead
}

// openReceipt verifies a receipt signed by worker for request id of model,
// at the offer's prices, with at most maxCompletion completion tokens.
func openReceipt(b []byte, worker peer.ID, o *Offer, id, model string, maxCompletion int64) (*Receipt, error) {
	var r Receipt
	signer, err := openSigned(b, kindReceipt, &r)
	if err != nil {
		return nil, fmt.Errorf("receipt: %w", err)
	}
	return checkReceipt(&r, signer, worker, o, id, model, maxCompletion)
}

// openSealedReceipt is openReceipt for a receipt that arrived inside the
// worker's sealed final record (the client's copy): the response AEAD
// already proves it comes from the holder of the worker's attested key,
// since only that worker and the client hold the response secret, so
// the signature, which lets the proxy bill without opening the record
// and which the proxy checked before relaying it, is not verified a
// second time on the client. Every other check is made.
func openSealedReceipt(b []byte, worker peer.ID, o *Offer, id, model string, maxCompletion int64) (*Receipt, error) {
	st, err := decodeSigned(b)
	if err == nil && st.Kind != kindReceipt {
		err = fmt.Errorf("signed statement of kind %d, want %d", st.Kind, kindReceipt)
	}
	var signer string
	if err == nil {
		signer, err = signerOf(st.Body)
	}
	var r Receipt
	if err == nil {
		err = decodeBody(st.Body, &r)
	}
	if err != nil {
		return nil, fmt.Errorf("receipt: %w", err)
	}
	if signer != worker.String() || r.Peer != signer {
		return nil, fmt.Errorf("receipt names %s, not the worker %s", signer, worker)
	}
	return checkReceipt(&r, worker, worker, o, id, model, maxCompletion)
}

// checkReceipt checks a decoded receipt against its request and offer.
func checkReceipt(r *Receipt, signer, worker peer.ID, o *Offer, id, model string, maxCompletion int64) (*Receipt, error) {
	switch {
	case signer != worker:
		return nil, fmt.Errorf("receipt signed by %s, not by the worker %s", signer, worker)
	case r.RequestID != id || r.Model != model:
		return nil, fmt.Errorf("receipt is for request %q of %q, not %q of %q", r.RequestID, r.Model, id, model)
	case r.PricePrompt != o.PricePrompt || r.PriceCompletion != o.PriceCompletion:
		return nil, fmt.Errorf("receipt prices %s/%s differ from the offer's %s/%s", r.PricePrompt, r.PriceCompletion, o.PricePrompt, o.PriceCompletion)
	case r.PromptTokens < 0 || r.CompletionTokens < 0:
		return nil, fmt.Errorf("receipt has negative token counts")
	case maxCompletion > 0 && r.CompletionTokens > maxCompletion:
		return nil, fmt.Errorf("receipt counts %d completion tokens, over the request's max_tokens %d", r.CompletionTokens, maxCompletion)
	}
	return r, nil
}

// bill is the split of one paid request.
type bill struct {
	client *big.Int // what the client pays the proxy
	worker *big.Int // what the proxy pays the worker
	// billedAt is the client channel's billed total with this bill, once
	// durable: the client's vouchers must reach it to pay this bill.
	billedAt *big.Int
}

// billFor prices a receipt: the worker's cost at its prices, the client's
// at the client prices, capped at the reservation; the client never pays
// less than the worker gets.
func billFor(r *Receipt, clientPP, clientPC, reserved *big.Int) bill {
	wpp, _ := parsePrice(r.PricePrompt)
	wpc, _ := parsePrice(r.PriceCompletion)
	b := bill{
		client: cost(r.PromptTokens, r.CompletionTokens, clientPP, clientPC),
		worker: cost(r.PromptTokens, r.CompletionTokens, wpp, wpc),
	}
	if reserved != nil && b.client.Cmp(reserved) > 0 {
		b.client = new(big.Int).Set(reserved)
	}
	if b.worker.Cmp(b.client) > 0 {
		b.worker = new(big.Int).Set(b.client)
	}
	return b
}
