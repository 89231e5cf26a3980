package compute

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/compute/backend"
	"github.com/tonmesh/tonmesh/internal/apiutil"
	"github.com/tonmesh/tonmesh/ledger/wallet"
)

// Routes registers the OpenAI-compatible API (/v1/...) and the compute
// routes of the local API (/api/v1/compute/...) with handle.
func (s *Service) Routes(handle func(pattern string, h http.Handler)) {
	handle("GET /v1/models", http.HandlerFunc(s.handleModels))
	handle("POST /v1/chat/completions", s.completionHandler(backend.Chat))
	handle("POST /v1/completions", s.completionHandler(backend.Completion))
	handle("GET /api/v1/compute/offers", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		apiutil.WriteJSON(w, http.StatusOK, s.Offers())
	}))
	handle("GET /api/v1/compute/worker", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		apiutil.WriteJSON(w, http.StatusOK, s.WorkerStatus())
	}))
	handle("GET /api/v1/compute/proxy", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		apiutil.WriteJSON(w, http.StatusOK, s.ProxyStatus())
	}))
}

// ModelPrice is a model's cheapest price on offer, as /v1/models shows it.
type ModelPrice struct {
	Prompt     string `json:"prompt"`
	Completion string `json:"completion"`
	Unit       string `json:"unit"`
}

// ModelEntry is one model of GET /v1/models.
type ModelEntry struct {
	ID           string     `json:"id"`
	Object       string     `json:"object"`
	Created      int64      `json:"created"`
	OwnedBy      string     `json:"owned_by"`
	Price        ModelPrice `json:"price"`
	Workers      int        `json:"workers"`
	Attestations []string   `json:"attestations"`
}

// ModelList answers GET /v1/models.
type ModelList struct {
	Object string       `json:"object"`
	Data   []ModelEntry `json:"data"`
}

// Models lists the models on offer with the cheapest client price of each
// (commission of the proxy this node would use included).
func (s *Service) Models() ModelList {
	now := time.Now()
	bp, _ := s.clientCommission(s.table.liveProxies(now))
	byID := map[string]*ModelEntry{}
	var ids []string
	for _, lo := range s.table.live(now) {
		pp, pc := lo.offer.prices()
		pp, pc = withCommission(pp, bp), withCommission(pc, bp)
		for _, m := range lo.offer.Models {
			e := byID[m.ID]
			if e == nil {
				e = &ModelEntry{ID: m.ID, Object: "model", Created: lo.offer.Issued / 1000, OwnedBy: "tonmesh",
					Price: ModelPrice{Prompt: pp.String(), Completion: pc.String(), Unit: "nanoTON per 1M tokens"}}
				byID[m.ID] = e
				ids = append(ids, m.ID)
			} else if cur, _ := new(big.Int).SetString(e.Price.Completion, 10); cur != nil && capPrice(pp, pc).Cmp(capPrice(mustPrice(e.Price.Prompt), cur)) < 0 {
				e.Price.Prompt, e.Price.Completion = pp.String(), pc.String()
			}
			e.Workers++
			if !slices.Contains(e.Attestations, lo.offer.Evidence.Kind) {
				e.Attestations = append(e.Attestations, lo.offer.Evidence.Kind)
			}
		}
	}
	slices.Sort(ids)
	out := ModelList{Object: "list", Data: []ModelEntry{}}
	for _, id := range ids {
		out.Data = append(out.Data, *byID[id])
	}
	return out
}

func mustPrice(s string) *big.Int {
	p, err := parsePrice(s)
	if err != nil {
		return new(big.Int)
	}
	return p
}

func (s *Service) handleModels(w http.ResponseWriter, r *http.Request) {
	apiutil.WriteJSON(w, http.StatusOK, s.Models())
}

func usageOf(res *InferResult) usageJSON {
	c, _ := new(big.Int).SetString(res.Cost, 10)
	if c == nil {
		c = new(big.Int)
	}
	return usageJSON{PromptTokens: res.Usage.PromptTokens, CompletionTokens: res.Usage.CompletionTokens,
		TotalTokens: res.Usage.TotalTokens, Cost: Cost{NanoTON: c.String(), TON: wallet.FormatTON(c)}}
}

func tonmeshOf(res *InferResult) tonmeshJSON {
	return tonmeshJSON{RequestID: res.RequestID, Worker: res.Worker, Proxy: res.Proxy, Attestation: res.Attestation}
}

// completionHandler serves POST /v1/chat/completions and /v1/completions.
func (s *Service) completionHandler(kind backend.Kind) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, e := s.parseOpenAI(kind, w, r)
		if e != nil {
			writeOpenAIError(w, e)
			return
		}
		if q.stream {
			s.serveStream(r.Context(), w, q)
			return
		}
		s.serveFolded(r.Context(), w, q)
	})
}

// routeInfo is the worker chosen for a request, as headers report it.
type routeInfo struct {
	worker       string
	attestation  string
	confidential bool
}

func (ri routeInfo) setHeaders(h http.Header) {
	h.Set(ConfidentialHeader, strconv.FormatBool(ri.confidential))
	h.Set("X-Tonmesh-Worker", ri.worker)
	h.Set("X-Tonmesh-Attestation", ri.attestation)
}

func (s *Service) serveFolded(ctx context.Context, w http.ResponseWriter, q *openAIRequest) {
	var f folded
	res, err := s.infer(ctx, &q.inferRequest, func(chunk json.RawMessage) error { return f.add(chunk) })
	if err != nil {
		writeOpenAIError(w, err)
		return
	}
	routeInfo{worker: res.Worker, attestation: res.Attestation, confidential: res.Confidential}.setHeaders(w.Header())
	apiutil.WriteJSON(w, http.StatusOK, f.response(q.kind, q.model, res, time.Now().Unix()))
}

func (s *Service) serveStream(ctx context.Context, w http.ResponseWriter, q *openAIRequest) {
	var info routeInfo
	q.started = func(worker peer.ID, attestation string, confidential bool) {
		info = routeInfo{worker: s.names.of(worker), attestation: attestation, confidential: confidential}
	}
	flusher, _ := w.(http.Flusher)
	wrote := false
	var first struct {
		ID      string `json:"id"`
		Created int64  `json:"created"`
	}
	send := func(data []byte) error {
		if !wrote {
			h := w.Header()
			h.Set("Content-Type", "text/event-stream")
			h.Set("Cache-Control", "no-cache")
			info.setHeaders(h)
			w.WriteHeader(http.StatusOK)
			wrote = true
		}
		if _, err := fmt.Fprintf(w, "data: %s\n\n", data); err != nil {
			return err
		}
		if flusher != nil {
			flusher.Flush()
		}
		return nil
	}
	res, err := s.infer(ctx, &q.inferRequest, func(chunk json.RawMessage) error {
		if first.ID == "" {
			_ = json.Unmarshal(chunk, &first)
		}
		return send(chunk)
	})
	if err != nil {
		if !wrote {
			writeOpenAIError(w, err)
			return
		}
		e, ok := err.(*Error)
		if !ok {
			e = newError(codeInternal, err.Error())
		}
		b, _ := json.Marshal(errorBody(e))
		_ = send(b)
		return
	}
	if q.includeUsage {
		object := "chat.completion.chunk"
		if q.kind == backend.Completion {
			object = "text_completion"
		}
		if first.Created == 0 {
			first.Created = time.Now().Unix()
		}
		b, _ := json.Marshal(map[string]any{"id": first.ID, "object": object, "created": first.Created, "model": q.model,
			"choices": []any{}, "usage": usageOf(res), "confidential": res.Confidential, "tonmesh": tonmeshOf(res)})
		_ = send(b)
	}
	_ = send([]byte("[DONE]"))
}
