package chat

import (
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Event says that a conversation changed: a message arrived (Direction
// DirIn) or one this node sent got its delivery outcome (DirOut). For a
// group, Group is its ID and Peer the sender (a change of the group itself
// has no ID). It carries
// no text: a listener reads the conversation through Messages, so an event
// never holds plaintext longer than the store does.
type Event struct {
	Peer      string `json:"peer"`
	Direction string `json:"direction"`
	ID        string `json:"id"`
	Status    string `json:"status,omitempty"`
	Group     string `json:"group,omitempty"`
}

// listeners is the set of OnEvent callbacks.
type listeners struct {
	mu   sync.Mutex
	next int
	fns  map[int]func(Event)
}

// OnEvent calls fn for every stored incoming message and every outgoing
// message's delivery outcome, until the returned cancel is called. fn runs
// on the path that stored the message: keep it short and never block (hand
// the event to a buffered channel and drop it when full).
func (s *Service) OnEvent(fn func(Event)) (cancel func()) {
	l := &s.listeners
	l.mu.Lock()
	if l.fns == nil {
		l.fns = make(map[int]func(Event))
	}
	id := l.next
	l.next++
	l.fns[id] = fn
	l.mu.Unlock()
	return func() {
		l.mu.Lock()
		delete(l.fns, id)
		l.mu.Unlock()
	}
}

// emit and emitGroup build the event (a peer ID in base58, a group ID)
// only when someone listens.
func (s *Service) emit(p peer.ID, dir, id, status string) {
	s.emitEvent(func() Event { return Event{Peer: p.String(), Direction: dir, ID: id, Status: status} })
}

func (s *Service) emitGroup(g GroupID, p peer.ID, dir, id, status string) {
	s.emitEvent(func() Event {
		return Event{Peer: p.String(), Direction: dir, ID: id, Status: status, Group: g.String()}
	})
}

func (s *Service) emitEvent(event func() Event) {
	l := &s.listeners
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fns) == 0 {
		return
	}
	e := event()
	for _, fn := range l.fns {
		fn(e)
	}
}
