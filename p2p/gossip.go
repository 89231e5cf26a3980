package p2p

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pubsubpb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"
)

const (
	// MaxTopicPayload is the largest TopicSpec.MaxSize: pubsub's 1 MiB
	// message limit minus room for the envelope, the topic name, the origin
	// signature and protobuf framing.
	MaxTopicPayload = pubsub.DefaultMaxMessageSize - 16<<10
	// DefaultTopicMaxAge applies when TopicSpec.MaxAge is zero.
	DefaultTopicMaxAge = 2 * time.Minute
	// MaxTopicMaxAge bounds TopicSpec.MaxAge: a message must be refused as
	// stale before GossipSub forgets it has seen it, or replays get through.
	MaxTopicMaxAge = 5 * time.Minute
	// MaxClockSkew is how far in the future a message's timestamp may be.
	MaxClockSkew = 30 * time.Second
	// maxTopicNameLen bounds topic names.
	maxTopicNameLen = 128

	seenMessagesTTL = MaxTopicMaxAge + MaxClockSkew + time.Minute
)

// ErrPayloadTooLarge is returned by Topic.Publish for payloads over MaxSize.
var ErrPayloadTooLarge = errors.New("gossip payload exceeds the topic's MaxSize")

// TopicSpec is what every topic must declare.
type TopicSpec struct {
	// MaxSize is the largest payload in bytes (required, 1..MaxTopicPayload).
	MaxSize int
	// MaxAge is how old a message may be (default DefaultTopicMaxAge, at
	// most MaxTopicMaxAge). Older messages are ignored without penalty;
	// messages dated more than MaxClockSkew in the future are rejected.
	MaxAge time.Duration
	// Validate checks the payload's schema and meaning (required). from is
	// the message's origin, whose signature GossipSub has already verified.
	// An error rejects the message and scores down the peer that sent it;
	// an error wrapping ErrIgnore drops it without penalty (an honest
	// message that is merely stale or cannot be checked now).
	Validate func(ctx context.Context, from peer.ID, payload []byte) error
	// Quick says Validate only computes (no I/O, no waiting, well under a
	// millisecond): GossipSub then runs it on its validation worker
	// instead of handing each message to a goroutine of its own, which
	// saves a scheduling delay per message at every hop. A Validate that
	// may wait (a chain lookup) must leave it false, or it stalls the
	// validation of every topic.
	Quick bool
}

// ErrIgnore, wrapped by a TopicSpec.Validate error, drops the message
// without scoring its sender down and without passing it on.
var ErrIgnore = errors.New("p2p: message ignored")

// Message is a validated gossip message.
type Message struct {
	From    peer.ID // origin (verified signer), not necessarily the forwarding peer
	Payload []byte
	Sent    time.Time // origin's clock, millisecond precision
}

// Topic is a joined GossipSub topic whose messages all pass its TopicSpec.
type Topic struct {
	n    *Network
	name string
	spec TopicSpec
	ps   *pubsub.Topic

	mu     sync.Mutex
	subs   map[*Subscription]struct{}
	closed bool
}

// Subscription receives a topic's validated messages.
type Subscription struct {
	t   *Topic
	sub *pubsub.Subscription
}

// messageID makes GossipSub deduplicate by content: the ID is a hash of the
// (signed) message data, which includes the envelope's timestamp.
func messageID(m *pubsubpb.Message) string {
	sum := sha256.Sum256(m.GetData())
	return base64.RawStdEncoding.EncodeToString(sum[:])
}

func (s *TopicSpec) check() error {
	switch {
	case s.MaxSize <= 0 || s.MaxSize > MaxTopicPayload:
		return fmt.Errorf("MaxSize %d must be between 1 and %d bytes (bulk data belongs on a stream protocol)", s.MaxSize, MaxTopicPayload)
	case s.MaxAge < 0 || s.MaxAge > MaxTopicMaxAge:
		return fmt.Errorf("MaxAge %v must be between 0 (default %v) and %v", s.MaxAge, DefaultTopicMaxAge, MaxTopicMaxAge)
	case s.Validate == nil:
		return errors.New("Validate is nil: every topic needs a schema check")
	}
	if s.MaxAge == 0 {
		s.MaxAge = DefaultTopicMaxAge
	}
	return nil
}

// JoinTopic registers the topic's validator, joins it and sets its score
// parameters. A topic can be joined once per Network.
func (n *Network) JoinTopic(name string, spec TopicSpec) (*Topic, error) {
	if name == "" || len(name) > maxTopicNameLen {
		return nil, fmt.Errorf("join topic: name must be 1 to %d bytes", maxTopicNameLen)
	}
	if err := spec.check(); err != nil {
		return nil, fmt.Errorf("join topic %q: %w", name, err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, fmt.Errorf("join topic %q: the network is closed", name)
	}
	if _, dup := n.topics[name]; dup {
		return nil, fmt.Errorf("join topic %q: already joined on this network", name)
	}
	t := &Topic{n: n, name: name, spec: spec, subs: make(map[*Subscription]struct{})}
	var vopts []pubsub.ValidatorOpt
	if spec.Quick {
		vopts = append(vopts, pubsub.WithValidatorInline(true))
	}
	if err := n.pubsub.RegisterTopicValidator(name, pubsub.ValidatorEx(t.validate), vopts...); err != nil {
		return nil, fmt.Errorf("join topic %q: register validator: %w", name, err)
	}
	ps, err := n.pubsub.Join(name)
	if err != nil {
		_ = n.pubsub.UnregisterTopicValidator(name)
		return nil, fmt.Errorf("join topic %q: %w", name, err)
	}
	if err := ps.SetScoreParams(topicScoreParams()); err != nil {
		_ = ps.Close()
		_ = n.pubsub.UnregisterTopicValidator(name)
		return nil, fmt.Errorf("join topic %q: set score parameters: %w", name, err)
	}
	t.ps = ps
	n.topics[name] = t
	return t, nil
}

// validate is the topic's GossipSub validator. It runs for local and remote
// messages alike, after GossipSub has verified the origin's signature.
func (t *Topic) validate(ctx context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
	env, res, reason := t.check(ctx, msg)
	t.n.metrics.gossip.WithLabelValues(t.name, res).Inc()
	switch res {
	case resultAccepted:
		msg.ValidatorData = env
		return pubsub.ValidationAccept
	case resultIgnored:
		t.n.log.Debug("gossip message ignored", "topic", t.name, "origin", msg.GetFrom(), "via", from, "reason", reason)
		return pubsub.ValidationIgnore
	default:
		t.n.log.Debug("gossip message rejected", "topic", t.name, "origin", msg.GetFrom(), "via", from, "reason", reason)
		return pubsub.ValidationReject
	}
}

func (t *Topic) check(ctx context.Context, msg *pubsub.Message) (envelope, string, error) {
	env, err := decodeEnvelope(msg.GetData(), t.spec.MaxSize)
	if err != nil {
		return envelope{}, resultRejected, err
	}
	now := time.Now()
	if env.Sent.After(now.Add(MaxClockSkew)) {
		return envelope{}, resultRejected, fmt.Errorf("timestamp %s is more than %v in the future", env.Sent.UTC().Format(time.RFC3339), MaxClockSkew)
	}
	if now.Sub(env.Sent) > t.spec.MaxAge {
		return envelope{}, resultIgnored, fmt.Errorf("message is older than %v", t.spec.MaxAge)
	}
	if err := t.spec.Validate(ctx, msg.GetFrom(), env.Payload); err != nil {
		if errors.Is(err, ErrIgnore) {
			return envelope{}, resultIgnored, err
		}
		return envelope{}, resultRejected, fmt.Errorf("schema: %w", err)
	}
	return env, resultAccepted, nil
}

// Name returns the topic's name.
func (t *Topic) Name() string { return t.name }

// Publish wraps payload in an envelope stamped with the current time and
// publishes it. It fails if payload exceeds MaxSize or the topic's own
// validator refuses it.
func (t *Topic) Publish(ctx context.Context, payload []byte) error {
	if len(payload) > t.spec.MaxSize {
		return fmt.Errorf("publish on %q: %d bytes: %w (%d)", t.name, len(payload), ErrPayloadTooLarge, t.spec.MaxSize)
	}
	if err := t.ps.Publish(ctx, encodeEnvelope(time.Now(), payload)); err != nil {
		return fmt.Errorf("publish on %q: %w", t.name, err)
	}
	return nil
}

// Subscribe starts receiving the topic's messages.
func (t *Topic) Subscribe() (*Subscription, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, fmt.Errorf("subscribe to %q: the topic is closed", t.name)
	}
	sub, err := t.ps.Subscribe()
	if err != nil {
		return nil, fmt.Errorf("subscribe to %q: %w", t.name, err)
	}
	s := &Subscription{t: t, sub: sub}
	t.subs[s] = struct{}{}
	return s, nil
}

// ListPeers returns the connected peers subscribed to the topic.
func (t *Topic) ListPeers() []peer.ID { return t.ps.ListPeers() }

// Close cancels the topic's subscriptions, leaves it and removes its
// validator. It is safe to call more than once.
func (t *Topic) Close() error {
	if err := t.close(); err != nil {
		return err
	}
	t.n.mu.Lock()
	if t.n.topics[t.name] == t {
		delete(t.n.topics, t.name)
	}
	t.n.mu.Unlock()
	return nil
}

func (t *Topic) close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	for s := range t.subs {
		s.sub.Cancel()
	}
	clear(t.subs)
	if err := t.ps.Close(); err != nil {
		return fmt.Errorf("close topic %q: %w", t.name, err)
	}
	if err := t.n.pubsub.UnregisterTopicValidator(t.name); err != nil {
		return fmt.Errorf("close topic %q: unregister validator: %w", t.name, err)
	}
	return nil
}

// Next blocks until the next validated message, ctx is done, or the
// subscription is cancelled.
func (s *Subscription) Next(ctx context.Context) (Message, error) {
	for {
		msg, err := s.sub.Next(ctx)
		if err != nil {
			return Message{}, fmt.Errorf("next message on %q: %w", s.t.name, err)
		}
		env, ok := msg.ValidatorData.(envelope)
		if !ok {
			// Only possible if the validator was bypassed (it is registered
			// before Join); never hand out an unchecked message.
			s.t.n.log.Warn("gossip message delivered without validation; dropped", "topic", s.t.name, "origin", msg.GetFrom())
			continue
		}
		return Message{From: msg.GetFrom(), Payload: env.Payload, Sent: env.Sent}, nil
	}
}

// Cancel stops the subscription; a blocked Next returns an error.
func (s *Subscription) Cancel() {
	s.t.mu.Lock()
	_, live := s.t.subs[s]
	delete(s.t.subs, s)
	s.t.mu.Unlock()
	if live {
		s.sub.Cancel()
	}
}
