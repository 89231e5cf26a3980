package chat

import (
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the service's Prometheus counters; registered only with the
// registerer given in Config.Metrics.
type metrics struct {
	messages *prometheus.CounterVec
	counters sync.Map // metricKey -> prometheus.Counter
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

// inc counts one message; the counter of each label pair is looked up
// once (WithLabelValues hashes the labels on every call).
func (m *metrics) inc(direction, result string) {
	key := metricKey{direction, result}
	c, ok := m.counters.Load(key)
	if !ok {
		c, _ = m.counters.LoadOrStore(key, m.messages.WithLabelValues(direction, result))
	}
	c.(prometheus.Counter).Inc()
}

type metricKey struct{ direction, result string }
