package webui

import "net/http"

type offerView struct {
	Worker string `json:"worker"`
	Models []struct {
		ID string `json:"id"`
	} `json:"models"`
	PricePrompt     string `json:"price_prompt"`
	PriceCompletion string `json:"price_completion"`
	ClientPrompt    string `json:"client_price_prompt"`
	ClientComplete  string `json:"client_price_completion"`
	Concurrency     int    `json:"concurrency"`
	Running         int    `json:"running"`
	Attestation     string `json:"attestation"`
}

type proxyView struct {
	Peer              string  `json:"peer"`
	CommissionPercent float64 `json:"commission_percent"`
}

type workerStatus struct {
	Enabled          bool   `json:"enabled"`
	Jobs             uint64 `json:"jobs"`
	Failed           uint64 `json:"failed"`
	PromptTokens     int64  `json:"prompt_tokens"`
	CompletionTokens int64  `json:"completion_tokens"`
	Earned           string `json:"earned"`
}

type proxyStatus struct {
	Enabled     bool   `json:"enabled"`
	Jobs        uint64 `json:"jobs"`
	Failed      uint64 `json:"failed"`
	Billed      string `json:"billed"`
	Received    string `json:"received"`
	PaidWorkers string `json:"paid_workers"`
	Commission  string `json:"commission"`
}

type computeView struct {
	Offers  []offerView
	Proxies []proxyView
	Models  []string
	Worker  workerStatus
	Proxy   proxyStatus
}

func (s *Server) computeData(r *http.Request) (any, error) {
	ctx := r.Context()
	var v computeView
	var offers struct {
		Offers  []offerView `json:"offers"`
		Proxies []proxyView `json:"proxies"`
	}
	var models struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	err := firstErr(s.get(ctx, "/api/v1/compute/offers", &offers), s.get(ctx, "/v1/models", &models),
		s.get(ctx, "/api/v1/compute/worker", &v.Worker), s.get(ctx, "/api/v1/compute/proxy", &v.Proxy))
	v.Offers, v.Proxies = offers.Offers, offers.Proxies
	for _, m := range models.Data {
		v.Models = append(v.Models, m.ID)
	}
	return v, err
}
