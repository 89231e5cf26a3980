package p2p

import (
	"bytes"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func counterValue(t testing.TB, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func newTestRecords(t testing.TB) *Records {
	t.Helper()
	r := newRecords(slog.New(slog.DiscardHandler), newMetrics())
	if err := r.Register("test", RecordValidatorFunc(SignerOwnsKey)); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRecordsRegister(t *testing.T) {
	r := newTestRecords(t)
	if err := r.Register("test", RecordValidatorFunc(SignerOwnsKey)); err == nil {
		t.Error("duplicate namespace accepted")
	}
	if err := r.Register("Bad_NS", RecordValidatorFunc(SignerOwnsKey)); err == nil {
		t.Error("invalid namespace accepted")
	}
	if err := r.Register("other", nil); err == nil {
		t.Error("nil validator accepted")
	}
}

func TestRecordsValidate(t *testing.T) {
	r := newTestRecords(t)
	priv := newKey(t)
	id := peerIDOf(t, priv).String()
	good, err := NewSignedRecord(priv, "test", id, 1, time.Hour, []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	goodBytes := mustMarshal(t, good)
	if err := r.Validate(DHTKey("test", id), goodBytes); err != nil {
		t.Fatalf("valid record refused: %v", err)
	}
	if got := counterValue(t, r.metrics.records.WithLabelValues("test", resultAccepted)); got != 1 {
		t.Fatalf("accepted counter = %v, want 1", got)
	}

	tampered := *good
	tampered.Value = []byte("evil")
	expired := resign(t, priv, &SignedRecord{Namespace: "test", Key: id, Seq: 1, Expires: time.Now().Add(-time.Second), Value: []byte("v")})
	notOwner, err := NewSignedRecord(newKey(t), "test", id, 1, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	otherNS, err := NewSignedRecord(priv, "unknown", id, 1, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name  string
		key   string
		value []byte
		is    error
	}{
		{"bad signature", DHTKey("test", id), mustMarshal(t, &tampered), nil},
		{"expired", DHTKey("test", id), mustMarshal(t, expired), nil},
		{"policy refuses", DHTKey("test", id), mustMarshal(t, notOwner), nil},
		{"stored under another key", DHTKey("test", "other"), goodBytes, nil},
		{"unregistered namespace", DHTKey("unknown", id), mustMarshal(t, otherNS), ErrUnknownNamespace},
		{"foreign key space", "/ipns/" + id, goodBytes, ErrUnknownNamespace},
		{"garbage", DHTKey("test", id), []byte("garbage"), nil},
	}
	for _, c := range cases {
		err := r.Validate(c.key, c.value)
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		if c.is != nil && !errors.Is(err, c.is) {
			t.Errorf("%s: error %v is not %v", c.name, err, c.is)
		}
	}
	if got := counterValue(t, r.metrics.records.WithLabelValues(unknownLabel, resultRejected)); got != 2 {
		t.Errorf("rejected counter for unregistered namespaces = %v, want 2", got)
	}
}

func TestRecordsSelect(t *testing.T) {
	r := newTestRecords(t)
	priv := newKey(t)
	id := peerIDOf(t, priv).String()
	key := DHTKey("test", id)
	at := func(seq uint64, exp time.Time, v string) []byte {
		return mustMarshal(t, resign(t, priv, &SignedRecord{Namespace: "test", Key: id, Seq: seq, Expires: exp, Value: []byte(v)}))
	}
	soon, later := time.Now().Add(time.Hour).Truncate(time.Second), time.Now().Add(2*time.Hour).Truncate(time.Second)
	bad := *resign(t, priv, &SignedRecord{Namespace: "test", Key: id, Seq: 99, Expires: later})
	bad.Value = []byte("tampered after signing")
	invalidHighSeq := mustMarshal(t, &bad)

	cases := []struct {
		name string
		vals [][]byte
		want int
	}{
		{"highest seq wins", [][]byte{at(1, later, "a"), at(3, soon, "b"), at(2, later, "c")}, 1},
		{"tie on seq: later expiry wins", [][]byte{at(2, soon, "a"), at(2, later, "b")}, 1},
		{"invalid never selected", [][]byte{at(1, soon, "a"), invalidHighSeq, []byte("junk")}, 0},
	}
	for _, c := range cases {
		got, err := r.Select(key, c.vals)
		if err != nil || got != c.want {
			t.Errorf("%s: Select = %d, %v; want %d", c.name, got, err, c.want)
		}
	}
	// Full ties are broken the same way whatever the order.
	x, y := at(5, soon, "x"), at(5, soon, "y")
	i1, _ := r.Select(key, [][]byte{x, y})
	i2, _ := r.Select(key, [][]byte{y, x})
	if !bytes.Equal([][]byte{x, y}[i1], [][]byte{y, x}[i2]) {
		t.Error("tie-break depends on input order")
	}
	if _, err := r.Select(key, [][]byte{invalidHighSeq}); err == nil {
		t.Error("Select of only invalid values succeeded")
	}
	if _, err := r.Select(key, nil); err == nil {
		t.Error("Select of nothing succeeded")
	}
}
