package p2p

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pubsubpb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"
)

func TestEnvelopeRoundTrip(t *testing.T) {
	sent := time.UnixMilli(time.Now().UnixMilli())
	for _, p := range [][]byte{{}, []byte("hi"), bytes.Repeat([]byte{1}, 1000)} {
		b := encodeEnvelope(sent, p)
		env, err := decodeEnvelope(b, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if !env.Sent.Equal(sent) || !bytes.Equal(env.Payload, p) {
			t.Fatalf("decoded %v/%d bytes, want %v/%d", env.Sent, len(env.Payload), sent, len(p))
		}
	}
}

func TestEnvelopeDecoderIsStrict(t *testing.T) {
	good := encodeEnvelope(time.Now(), []byte("payload"))
	cases := map[string][]byte{
		"empty":            nil,
		"truncated":        good[:len(good)-1],
		"trailing byte":    append(bytes.Clone(good), 0),
		"version 0":        append([]byte{0}, good[1:]...),
		"zero timestamp":   append(append([]byte{1}, make([]byte, 8)...), good[9:]...),
		"negative time":    append(append([]byte{1}, 0xff, 0, 0, 0, 0, 0, 0, 0), good[9:]...),
		"non-minimal len":  append(bytes.Clone(good[:9]), append([]byte{0x87, 0x00}, "payload"...)...),
		"payload too long": encodeEnvelope(time.Now(), make([]byte, 11)),
	}
	for name, b := range cases {
		if _, err := decodeEnvelope(b, 10); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

// topicForTest builds a Topic whose validator can run without a network.
func topicForTest(spec TopicSpec) (*Topic, error) {
	if err := spec.check(); err != nil {
		return nil, err
	}
	n := &Network{log: slog.New(slog.DiscardHandler), metrics: newMetrics()}
	return &Topic{n: n, name: "t", spec: spec}, nil
}

func gossipMsg(data []byte) *pubsub.Message {
	return &pubsub.Message{Message: &pubsubpb.Message{Data: data, From: []byte(peer.ID("origin"))}}
}

func TestTopicValidator(t *testing.T) {
	errSchema := errors.New("schema")
	topic, err := topicForTest(TopicSpec{MaxSize: 16, MaxAge: time.Minute, Validate: func(_ context.Context, from peer.ID, p []byte) error {
		if from != peer.ID("origin") {
			return errors.New("wrong origin passed to Validate")
		}
		if string(p) == "bad" {
			return errSchema
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	cases := []struct {
		name string
		data []byte
		want pubsub.ValidationResult
	}{
		{"valid", encodeEnvelope(now, []byte("ok")), pubsub.ValidationAccept},
		{"schema error", encodeEnvelope(now, []byte("bad")), pubsub.ValidationReject},
		{"oversize", encodeEnvelope(now, make([]byte, 17)), pubsub.ValidationReject},
		{"malformed", []byte("not an envelope"), pubsub.ValidationReject},
		{"far future", encodeEnvelope(now.Add(MaxClockSkew+time.Minute), []byte("ok")), pubsub.ValidationReject},
		{"slightly future", encodeEnvelope(now.Add(MaxClockSkew/2), []byte("ok")), pubsub.ValidationAccept},
		{"stale", encodeEnvelope(now.Add(-2*time.Minute), []byte("ok")), pubsub.ValidationIgnore},
	}
	for _, c := range cases {
		msg := gossipMsg(c.data)
		if got := topic.validate(context.Background(), "forwarder", msg); got != c.want {
			t.Errorf("%s: validator = %v, want %v", c.name, got, c.want)
		}
		if c.want == pubsub.ValidationAccept {
			if env, ok := msg.ValidatorData.(envelope); !ok || string(env.Payload) != "ok" {
				t.Errorf("%s: accepted message carries no decoded envelope", c.name)
			}
		}
	}
	if got := counterValue(t, topic.n.metrics.gossip.WithLabelValues("t", resultRejected)); got != 4 {
		t.Errorf("rejected counter = %v, want 4", got)
	}
	if got := counterValue(t, topic.n.metrics.gossip.WithLabelValues("t", resultIgnored)); got != 1 {
		t.Errorf("ignored counter = %v, want 1", got)
	}
}

func TestTopicSpecChecked(t *testing.T) {
	ok := func(context.Context, peer.ID, []byte) error { return nil }
	bad := []TopicSpec{
		{MaxSize: 0, Validate: ok},
		{MaxSize: MaxTopicPayload + 1, Validate: ok},
		{MaxSize: 10, MaxAge: MaxTopicMaxAge + time.Second, Validate: ok},
		{MaxSize: 10, MaxAge: -time.Second, Validate: ok},
		{MaxSize: 10},
	}
	for i, s := range bad {
		if err := s.check(); err == nil {
			t.Errorf("spec %d accepted: %+v", i, s)
		}
	}
	s := TopicSpec{MaxSize: 10, Validate: ok}
	if err := s.check(); err != nil || s.MaxAge != DefaultTopicMaxAge {
		t.Fatalf("default MaxAge not applied: %v, %v", err, s.MaxAge)
	}
}
