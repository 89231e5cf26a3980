package node

import "github.com/prometheus/client_golang/prometheus"

func (n *Node) registerMetrics() {
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "tonmesh_node_info",
		Help:        "Constant 1, labelled with the node's identity and version.",
		ConstLabels: prometheus.Labels{"peer_id": n.id.PeerID().String(), "version": Version, "network": string(n.network)},
	})
	info.Set(1)
	n.reg.MustRegister(info,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tonmesh_peers_connected",
			Help: "Peers the node holds a connection to.",
		}, func() float64 { return float64(len(n.net.Peers())) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tonmesh_dht_routing_table_peers",
			Help: "Peers in the node's Kad-DHT routing table.",
		}, func() float64 { return float64(n.net.RoutingTableSize()) }),
	)
}

// registerServiceMetrics exposes the services' own counters, read at
// scrape time from the figures their status calls already keep.
func (n *Node) registerServiceMetrics() {
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f)
	}
	n.reg.MustRegister(
		gauge("tonmesh_vault_shards_held", "Shards this node holds for vault owners.",
			func() float64 { return float64(n.vault.HolderStats().Shards) }),
		gauge("tonmesh_vault_bytes_held", "Bytes of shards this node holds for vault owners.",
			func() float64 { return float64(n.vault.HolderStats().Used) }),
		gauge("tonmesh_vault_quota_bytes", "Bytes this node lends to vault owners (vault.quota_mb).",
			func() float64 { return float64(n.vault.HolderStats().Quota) }),
		gauge("tonmesh_chat_mailbox_items_held", "Mailbox items this node holds for offline chat recipients.",
			func() float64 { return float64(n.chat.HolderStats().Items) }),
		gauge("tonmesh_chat_mailbox_bytes_held", "Bytes of mailbox items this node holds for offline chat recipients.",
			func() float64 { return float64(n.chat.HolderStats().Bytes) }),
		gauge("tonmesh_chat_mailbox_refuses_plain_deposits", "1 when this mailbox holder takes sealed-sender deposits only (chat.refuse_plain_deposits).",
			func() float64 {
				if n.chat.HolderStats().RefusesPlain {
					return 1
				}
				return 0
			}),
		counter("tonmesh_chat_mailbox_sealed_deposits_total", "Sealed-sender deposits this mailbox holder took.",
			func() float64 { return float64(n.chat.HolderStats().Deposits) }),
		counter("tonmesh_chat_mailbox_plain_deposits_total", "Plain (sender-signed) deposits this mailbox holder took.",
			func() float64 { return float64(n.chat.HolderStats().PlainPuts) }),
		counter("tonmesh_chat_mailbox_refused_total", "Deposits this mailbox holder refused: too little work, a replayed or stale stamp, over quota, malformed, or plain when chat.refuse_plain_deposits.",
			func() float64 {
				st := n.chat.HolderStats()
				return float64(st.RefusedWork + st.RefusedReplay + st.RefusedStale + st.RefusedQuota + st.Rejected + st.PlainRefused)
			}),
		gauge("tonmesh_compute_worker_running", "Inference jobs this worker runs now.",
			func() float64 { return float64(n.compute.WorkerStatus().Running) }),
		counter("tonmesh_compute_worker_jobs_total", "Inference jobs this worker answered completely.",
			func() float64 { return float64(n.compute.WorkerStatus().Jobs) }),
		counter("tonmesh_compute_worker_completion_tokens_total", "Completion tokens this worker generated.",
			func() float64 { return float64(n.compute.WorkerStatus().CompletionTokens) }),
		gauge("tonmesh_compute_proxy_running", "Requests this proxy relays now.",
			func() float64 { return float64(n.compute.ProxyStatus().Running) }),
		counter("tonmesh_compute_proxy_jobs_total", "Requests this proxy relayed to a complete answer.",
			func() float64 { return float64(n.compute.ProxyStatus().Jobs) }),
	)
	if n.market != nil {
		n.reg.MustRegister(
			counter("tonmesh_market_bids_accepted_total", "Gossiped bids this node's validator accepted.",
				func() float64 { return float64(n.market.Stats().BidsAccepted) }),
			counter("tonmesh_market_bids_rejected_total", "Gossiped bids this node's validator refused.",
				func() float64 { return float64(n.market.Stats().BidsRejected) }),
		)
	}
}
