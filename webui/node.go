package webui

import (
	"bufio"
	"net/http"
	"strings"
)

// The views below hold the fields of the API's answers that the pages
// show; the API's own types stay in their packages.

type amount struct {
	Nano string `json:"nano"`
	TON  string `json:"ton"`
}

type idView struct {
	Name          string   `json:"name"`
	PeerID        string   `json:"peer_id"`
	Addrs         []string `json:"addrs"`
	Address       string   `json:"address"`
	WalletVersion string   `json:"wallet_version"`
	Network       string   `json:"network"`
	Version       string   `json:"version"`
}

type peerView struct {
	PeerID    string   `json:"peer_id"`
	Addrs     []string `json:"addrs"`
	LatencyMS float64  `json:"latency_ms"`
}

type balanceView struct {
	Address string `json:"address"`
	Status  string `json:"status"`
	Balance amount `json:"balance"`
}

type journalView struct {
	Seq          uint64 `json:"seq"`
	Kind         string `json:"kind"`
	Key          string `json:"key"`
	Amount       amount `json:"amount"`
	Counterparty string `json:"counterparty"`
	Time         string `json:"time"`
}

type anchorView struct {
	ID      uint64 `json:"id"`
	FromSeq uint64 `json:"from_seq"`
	ToSeq   uint64 `json:"to_seq"`
	Status  any    `json:"status"`
}

type metric struct{ Name, Value string }

type nodeView struct {
	ID      idView
	Peers   []peerView
	Balance *balanceView
	Journal []journalView
	Anchors []anchorView
	Metrics []metric
}

// recentJournal is how many of the newest journal entries the page shows.
const recentJournal = 20

func (s *Server) nodeData(r *http.Request) (any, error) {
	ctx := r.Context()
	var v nodeView
	var peers struct {
		Peers []peerView `json:"peers"`
	}
	var bal balanceView
	e1 := s.get(ctx, "/api/v1/id", &v.ID)
	e2 := s.get(ctx, "/api/v1/peers", &peers)
	v.Peers = peers.Peers
	if err := s.get(ctx, "/api/v1/ledger/balance", &bal); err == nil {
		v.Balance = &bal
	}
	// The journal and anchors need the chain; a node still syncing shows
	// the rest.
	_ = s.get(ctx, "/api/v1/ledger/journal", &v.Journal)
	if len(v.Journal) > recentJournal {
		v.Journal = v.Journal[len(v.Journal)-recentJournal:]
	}
	_ = s.get(ctx, "/api/v1/ledger/anchors", &v.Anchors)
	v.Metrics = s.keyMetrics(r)
	return v, firstErr(e1, e2)
}

// keyMetrics picks tonmesh's own unlabelled counters and gauges from
// /metrics: the few figures an owner looks at.
func (s *Server) keyMetrics(r *http.Request) []metric {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, "/metrics", nil)
	if err != nil {
		return nil
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	rec := &recorder{h: http.Header{}}
	s.api.ServeHTTP(rec, req)
	var out []metric
	sc := bufio.NewScanner(&rec.body)
	for sc.Scan() && len(out) < 40 {
		line := sc.Text()
		if !strings.HasPrefix(line, "tonmesh_") || strings.Contains(line, "{") {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if ok {
			out = append(out, metric{Name: name, Value: val})
		}
	}
	return out
}
