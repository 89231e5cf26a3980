package chat

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// ErrNotFound wraps errors about a group (or other object) this node does
// not know.
var ErrNotFound = errors.New("chat: not found")

// ErrForbidden wraps errors about a change only an admin (or a member) may
// make.
var ErrForbidden = errors.New("chat: not allowed")

// Group describes one group as this node knows it.
type Group struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Epoch    uint32    `json:"epoch"`
	Admins   []string  `json:"admins"`
	Members  []string  `json:"members"`
	TimerS   int64     `json:"timer_s"`
	Unread   int       `json:"unread"`
	Messages int       `json:"messages"`
	LastAt   time.Time `json:"last_at,omitzero"`
	Left     bool      `json:"left,omitempty"`     // this identity left or was removed
	Pending  int       `json:"pending,omitempty"`  // messages waiting for their sender's key
	Rejected uint64    `json:"rejected,omitempty"` // group messages that failed a check
	// Notified, after a change, says how the members were told of it.
	Notified *Fanout `json:"notified,omitempty"`
}

// Fanout counts how a message (or a change) reached the members.
type Fanout struct {
	Members   int `json:"members"`   // others it was for
	Delivered int `json:"delivered"` // acknowledged directly
	Mailbox   int `json:"mailbox"`   // left with mailbox peers
	Failed    int `json:"failed"`    // neither
}

func (f *Fanout) add(status string) {
	switch status {
	case StatusDelivered:
		f.Delivered++
	case StatusMailbox:
		f.Mailbox++
	default:
		f.Failed++
	}
}

// status sums the fanout up: failed when nobody got it, mailbox when some
// copies wait in mailboxes, else delivered.
func (f *Fanout) status() string {
	switch {
	case f.Members > 0 && f.Failed == f.Members:
		return StatusFailed
	case f.Mailbox > 0 || f.Failed > 0:
		return StatusMailbox
	default:
		return StatusDelivered
	}
}

func describeGroup(meta *groupMeta, st *groupState) *Group {
	g := &Group{
		ID: st.Group.String(), Name: st.Name, Epoch: st.Epoch, TimerS: int64(st.Timer / time.Second),
		Unread: meta.Unread, Messages: meta.Count, LastAt: meta.LastAt, Left: meta.Left,
		Pending: meta.Pending, Rejected: meta.Rejected, Admins: []string{}, Members: []string{},
	}
	for _, p := range st.Admins {
		g.Admins = append(g.Admins, p.String())
	}
	for _, p := range st.Members {
		g.Members = append(g.Members, p.String())
	}
	return g
}

// CreateGroup makes a group with this identity as its admin and the given
// members, and tells each of them. ttl is the group's default timer.
func (s *Service) CreateGroup(ctx context.Context, name string, members []peer.ID, ttl time.Duration) (*Group, error) {
	if err := checkTTL(ttl); err != nil {
		return nil, err
	}
	if err := s.checkMembers(members); err != nil {
		return nil, err
	}
	var g GroupID
	if _, err := rand.Read(g[:]); err != nil {
		return nil, fmt.Errorf("chat: draw a group ID: %w", err)
	}
	st := &groupState{Group: g, Epoch: 1, Name: name, Timer: ttl, Admins: []peer.ID{s.self}, Members: sortPeers(append(slices.Clone(members), s.self))}
	return s.changeGroup(ctx, g, func(cur *groupState) (*groupState, error) {
		if cur != nil {
			return nil, errors.New("chat: a group with a fresh random ID exists")
		}
		return st, nil
	})
}

// InviteToGroup adds members (as admins too when admin is set).
func (s *Service) InviteToGroup(ctx context.Context, g GroupID, members []peer.ID, admin bool) (*Group, error) {
	if err := s.checkMembers(members); err != nil {
		return nil, err
	}
	return s.changeGroup(ctx, g, func(cur *groupState) (*groupState, error) {
		n := cur.next()
		n.Members = sortPeers(append(n.Members, members...))
		if admin {
			n.Admins = sortPeers(append(n.Admins, members...))
		}
		return n, nil
	})
}

// RemoveFromGroup takes members out of the group. Every remaining member
// starts a new sender key with the new epoch, so the removed ones cannot
// read what follows.
func (s *Service) RemoveFromGroup(ctx context.Context, g GroupID, members []peer.ID) (*Group, error) {
	if len(members) == 0 {
		return nil, fmt.Errorf("%w: name at least one member to remove", ErrBadRequest)
	}
	return s.changeGroup(ctx, g, func(cur *groupState) (*groupState, error) {
		n := cur.next()
		for _, p := range members {
			if p == s.self {
				return nil, fmt.Errorf("%w: to remove yourself, leave the group", ErrBadRequest)
			}
			if !cur.isMember(p) {
				return nil, fmt.Errorf("%w: %s is not a member of the group", ErrBadRequest, p)
			}
			n.Members = slices.DeleteFunc(n.Members, func(m peer.ID) bool { return m == p })
			n.Admins = slices.DeleteFunc(n.Admins, func(m peer.ID) bool { return m == p })
		}
		if len(n.Admins) == 0 {
			return nil, fmt.Errorf("%w: the group would have no admin", ErrBadRequest)
		}
		return n, nil
	})
}

// RenameGroup changes the group's name.
func (s *Service) RenameGroup(ctx context.Context, g GroupID, name string) (*Group, error) {
	return s.changeGroup(ctx, g, func(cur *groupState) (*groupState, error) {
		n := cur.next()
		n.Name = name
		return n, nil
	})
}

// SetGroupTimer changes the group's default message timer (0: none).
func (s *Service) SetGroupTimer(ctx context.Context, g GroupID, ttl time.Duration) (*Group, error) {
	if err := checkTTL(ttl); err != nil {
		return nil, err
	}
	return s.changeGroup(ctx, g, func(cur *groupState) (*groupState, error) {
		n := cur.next()
		n.Timer = ttl
		return n, nil
	})
}

// LeaveGroup takes this identity out of the group: it signs the state
// without itself, which the others accept from a member for itself only.
func (s *Service) LeaveGroup(ctx context.Context, g GroupID) (*Group, error) {
	return s.changeGroup(ctx, g, func(cur *groupState) (*groupState, error) {
		n := cur.next()
		n.Members = slices.DeleteFunc(n.Members, func(m peer.ID) bool { return m == s.self })
		n.Admins = slices.DeleteFunc(n.Admins, func(m peer.ID) bool { return m == s.self })
		if len(n.Members) > 0 && len(n.Admins) == 0 {
			return nil, fmt.Errorf("%w: you are the group's only admin: invite another member as admin (--admin) first", ErrBadRequest)
		}
		if len(n.Members) == 0 {
			return nil, fmt.Errorf("%w: you are the last member; there is nobody to tell", ErrBadRequest)
		}
		return n, nil
	})
}

// next is a copy of the state for the following epoch, to be changed.
func (g *groupState) next() *groupState {
	return &groupState{Group: g.Group, Epoch: g.Epoch + 1, Name: g.Name, Timer: g.Timer,
		Admins: slices.Clone(g.Admins), Members: slices.Clone(g.Members)}
}

func (s *Service) checkMembers(ps []peer.ID) error {
	if len(ps)+1 > MaxGroupMembers {
		return fmt.Errorf("%w: a group has at most %d members", ErrBadRequest, MaxGroupMembers)
	}
	for _, p := range ps {
		if err := s.checkPeer(p); err != nil {
			return err
		}
	}
	return nil
}

// changeGroup makes, signs and stores (durably) the next state that change
// returns, then tells every member of the old and new state. change gets
// the current state (nil for a new group).
func (s *Service) changeGroup(ctx context.Context, g GroupID, change func(cur *groupState) (*groupState, error)) (*Group, error) {
	unlock := s.lockGroup(g)
	meta, cur, ok, err := s.loadGroup(g)
	if err == nil {
		err = s.checkCanChange(g, cur, ok, meta)
	}
	var n *groupState
	var raw []byte
	if err == nil {
		n, err = change(cur)
	}
	if err == nil {
		n.Signer = s.self
		if len(n.Name) > maxGroupName {
			err = fmt.Errorf("%w: a group name has at most %d bytes", ErrBadRequest, maxGroupName)
		} else if len(n.Members) > MaxGroupMembers {
			err = fmt.Errorf("%w: a group has at most %d members", ErrBadRequest, MaxGroupMembers)
		} else if raw, err = n.sign(s.id.PeerKey); err != nil {
			err = fmt.Errorf("%w: %v", ErrBadRequest, err)
		}
	}
	if err == nil && cur != nil {
		if verr := validTransition(cur, n); verr != nil {
			err = fmt.Errorf("%w: %v", ErrForbidden, verr)
		}
	}
	if err == nil {
		b := s.space.NewBatch()
		meta.State = raw
		meta.Left = !n.isMember(s.self)
		putGroupMeta(b, g, meta)
		b.Set(gsKey(g, n.Epoch), raw)
		err = b.Commit() // durable before anyone is told
	}
	unlock()
	if err != nil {
		return nil, err
	}
	tell := sortPeers(append(slices.Clone(n.Members), membersOf(cur)...))
	f := s.fanoutCtl(ctx, tell, (&groupCtl{Type: ctlState, State: raw}).encode())
	out := describeGroup(meta, n)
	out.Notified = f
	s.emitGroup(g, s.self, DirOut, "", f.status())
	return out, nil
}

func membersOf(st *groupState) []peer.ID {
	if st == nil {
		return nil
	}
	return st.Members
}

func (s *Service) checkCanChange(g GroupID, cur *groupState, ok bool, meta *groupMeta) error {
	if !ok {
		return nil // CreateGroup's change refuses a known ID
	}
	if meta.Left {
		return fmt.Errorf("%w: this identity is no longer in group %s", ErrForbidden, g)
	}
	return nil
}

// validTransition says whether n may follow cur: signed by an admin of
// cur, or a member of cur taking only itself out.
func validTransition(cur, n *groupState) error {
	if n.Group != cur.Group || n.Epoch <= cur.Epoch {
		return fmt.Errorf("epoch %d does not follow %d", n.Epoch, cur.Epoch)
	}
	if cur.isAdmin(n.Signer) {
		return nil
	}
	if !cur.isMember(n.Signer) {
		return fmt.Errorf("%s is not a member of epoch %d", n.Signer, cur.Epoch)
	}
	want := cur.next()
	want.Members = slices.DeleteFunc(want.Members, func(m peer.ID) bool { return m == n.Signer })
	if n.Name != want.Name || n.Timer != want.Timer || !slices.Equal(n.Admins, want.Admins) || !slices.Equal(n.Members, want.Members) {
		return errors.New("only an admin may change the group; a member may only leave it")
	}
	return nil
}

// fanoutCtl sends one control message pairwise to each of to (but this
// node), in parallel.
func (s *Service) fanoutCtl(ctx context.Context, to []peer.ID, ctl []byte) *Fanout {
	return s.fanout(to, func(p peer.ID) string {
		status, err := s.sendCtl(ctx, p, ctl)
		if err != nil {
			s.log.Debug("group control not delivered", "to", p, "err", err)
		}
		return status
	})
}

// fanoutLimit bounds the concurrent deliveries of one fanout.
const fanoutLimit = 16

func (s *Service) fanout(to []peer.ID, one func(peer.ID) string) *Fanout {
	f := &Fanout{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, fanoutLimit)
	for _, p := range to {
		if p == s.self {
			continue
		}
		f.Members++
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			st := one(p)
			mu.Lock()
			f.add(st)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return f
}

// Groups lists the groups this node knows, most recent first.
func (s *Service) Groups() ([]Group, error) {
	out := []Group{}
	var ids []GroupID
	err := s.space.Iterate([]byte("gm/"), func(k, _ []byte) error {
		if len(k) == 3+groupIDLen {
			var g GroupID
			copy(g[:], k[3:])
			ids = append(ids, g)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("chat: list groups: %w", err)
	}
	for _, g := range ids {
		meta, st, ok, err := s.loadGroup(g)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, *describeGroup(meta, st))
		}
	}
	slices.SortFunc(out, func(a, b Group) int { return b.LastAt.Compare(a.LastAt) })
	return out, nil
}

// GroupInfo describes one group.
func (s *Service) GroupInfo(g GroupID) (*Group, error) {
	meta, st, ok, err := s.loadGroup(g)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: unknown group %s (`tonmesh chat group list` shows the groups this node is in)", ErrNotFound, g)
	}
	return describeGroup(meta, st), nil
}

// GroupPage is a page of a group's messages.
type GroupPage struct {
	Group    string    `json:"group"`
	Messages []Message `json:"messages"`
	Next     uint64    `json:"next"` // cursor for since
}

// GroupMessages returns up to limit messages of g after since (0: from the
// start) and marks them read.
func (s *Service) GroupMessages(g GroupID, since uint64, limit int) (*GroupPage, error) {
	ms, next, err := s.groupMessages(g, since, limit)
	if err != nil {
		return nil, err
	}
	return &GroupPage{Group: g.String(), Messages: ms, Next: next}, nil
}
