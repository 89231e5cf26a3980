package chat

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the service's Prometheus counters; registered only with the
// registerer given in Config.Metrics.
type metrics struct {
	messages *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "tonmesh", Subsystem: "chat", Name: "messages_total",
			Help: "Chat messages by direction (in, out) and result (stored, duplicate, rejected, expired; sealed, delivered, mailbox, failed).",
		}, []string{"direction", "result"}),
	}
	if reg != nil {
		if err := reg.Register(m.messages); err != nil {
			return nil, fmt.Errorf("chat: register metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) inc(direction, result string) {
	m.messages.WithLabelValues(direction, result).Inc()
}
