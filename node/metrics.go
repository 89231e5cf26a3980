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
