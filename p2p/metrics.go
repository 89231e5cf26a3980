package p2p

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Label values used in tonmesh's p2p metrics.
const (
	resultAccepted = "accepted"
	resultRejected = "rejected"
	resultIgnored  = "ignored"

	directionIn  = "in"
	directionOut = "out"

	// unknownLabel replaces namespaces nobody registered, so a peer cannot
	// create label values at will.
	unknownLabel = "unregistered"
)

// metrics holds tonmesh's own p2p metrics. The collectors always exist, so
// callers never check for nil; they are registered only when the Network got
// a registry through WithMetrics.
type metrics struct {
	gossip  *prometheus.CounterVec // topic, result
	records *prometheus.CounterVec // namespace, result
	frames  *prometheus.CounterVec // protocol, direction
	streams *prometheus.CounterVec // protocol, result
}

func newMetrics() *metrics {
	return &metrics{
		gossip: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "tonmesh", Subsystem: "p2p", Name: "gossip_messages_total",
			Help: "Gossip messages seen by topic validators, by topic and result (accepted, rejected, ignored).",
		}, []string{"topic", "result"}),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "tonmesh", Subsystem: "p2p", Name: "records_total",
			Help: "DHT records checked by the record registry, by namespace and result (accepted, rejected).",
		}, []string{"namespace", "result"}),
		frames: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "tonmesh", Subsystem: "p2p", Name: "stream_frames_total",
			Help: "Frames read (in) or written (out) by the stream helpers, by protocol.",
		}, []string{"protocol", "direction"}),
		streams: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "tonmesh", Subsystem: "p2p", Name: "streams_total",
			Help: "Streams handled or requested through the stream helpers, by protocol and result (accepted = completed, rejected = reset).",
		}, []string{"protocol", "result"}),
	}
}

// register adds the collectors and the given gauges to reg. If reg already
// holds an identical counter (a second Network on the same registry), the
// existing one is adopted so both Networks count into it.
func (m *metrics) register(reg prometheus.Registerer, gauges ...prometheus.Collector) error {
	for _, cv := range []**prometheus.CounterVec{&m.gossip, &m.records, &m.frames, &m.streams} {
		if err := reg.Register(*cv); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return fmt.Errorf("register p2p metrics: %w", err)
			}
			existing, ok := are.ExistingCollector.(*prometheus.CounterVec)
			if !ok {
				return fmt.Errorf("register p2p metrics: %w", err)
			}
			*cv = existing
		}
	}
	for _, g := range gauges {
		if err := reg.Register(g); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				continue // first Network on this registry reports it
			}
			return fmt.Errorf("register p2p metrics: %w", err)
		}
	}
	return nil
}
