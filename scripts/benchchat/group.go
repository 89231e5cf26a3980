package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/chat"
	"github.com/tonmesh/tonmesh/internal/harness/peers"
)

// GroupResults are the figures of the group measure: one group message to
// every other member, beside the same text sent as one 1:1 message to each.
type GroupResults struct {
	Members int `json:"members"`
	Nodes   int `json:"nodes"`
	// Group is SendGroup until every other member acknowledged its copy
	// durably; Pairwise is one Send per other member, as many at once as
	// the group fan-out runs, until all acknowledged.
	Group    Latency `json:"group_send_all_delivered"`
	Pairwise Latency `json:"pairwise_sends_all_delivered"`
	// StartS is how long the nodes took to come up and find each other.
	StartS float64 `json:"cluster_start_s"`
}

// pairwiseLimit is how many 1:1 sends run at once in the pairwise measure:
// the group fan-out's own limit (chat.fanoutLimit), for a like-for-like
// comparison.
const pairwiseLimit = 16

// runGroup starts c.Group nodes, one identity (member) each, makes a group
// of all of them, and measures c.GroupMessages group messages and as many
// rounds of pairwise messages from the first member.
func runGroup(ctx context.Context, c config, dir string, progress io.Writer) (*GroupResults, error) {
	start := time.Now()
	ps, err := peers.Launch(ctx, filepath.Join(dir, "group"), c.Group)
	defer func() {
		for _, p := range ps {
			p.Stop()
		}
	}()
	if err != nil {
		return nil, fmt.Errorf("start %d group nodes: %w", c.Group, err)
	}
	log := slog.New(slog.DiscardHandler)
	svcs := make([]*chat.Service, 0, len(ps))
	defer func() {
		for _, s := range svcs {
			s.Stop()
		}
	}()
	for i, p := range ps {
		s, err := chat.New(p.Store, p.Net, p.Identity, chat.Config{MailboxPoll: time.Hour}, log)
		if err != nil {
			return nil, fmt.Errorf("group node %d: %w", i, err)
		}
		if err := s.Start(ctx); err != nil {
			return nil, fmt.Errorf("group node %d: %w", i, err)
		}
		svcs = append(svcs, s)
	}
	wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	for _, s := range svcs {
		if err := publish(wctx, s); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(progress, "%d group nodes up; starting sessions\n", len(svcs))
	sender, others := svcs[0], svcs[1:]
	var members []peer.ID
	for _, s := range others {
		members = append(members, s.PeerID())
	}
	// A first 1:1 message to each member starts the session (a DHT lookup
	// of its bundle) that both measures then use; not counted.
	for _, s := range others {
		if err := warmUp(wctx, sender, s); err != nil {
			return nil, err
		}
	}
	grp, err := sender.CreateGroup(wctx, "bench", members, 0)
	if err != nil {
		return nil, fmt.Errorf("create the group: %w", err)
	}
	if grp.Notified.Delivered != len(others) {
		return nil, fmt.Errorf("group creation reached %+v of %d members directly", grp.Notified, len(others))
	}
	g, err := chat.ParseGroupID(grp.ID)
	if err != nil {
		return nil, err
	}
	// The first group message also hands out the sender key; not counted.
	if _, err := groupRound(ctx, sender, g, "warm up", len(others)); err != nil {
		return nil, err
	}
	res := &GroupResults{Members: len(svcs), Nodes: len(ps), StartS: time.Since(start).Seconds()}
	fmt.Fprintln(progress, "group made; measuring")
	text := string(make([]byte, c.Size))
	var grpSamples, pairSamples []time.Duration
	var grpWall, pairWall time.Duration
	// Interleaved, so that both measures see the same state of the machine.
	for range c.GroupMessages {
		d, err := groupRound(ctx, sender, g, text, len(others))
		if err != nil {
			return nil, err
		}
		grpSamples, grpWall = append(grpSamples, d), grpWall+d
		d, err = pairwiseRound(ctx, sender, members, text)
		if err != nil {
			return nil, err
		}
		pairSamples, pairWall = append(pairSamples, d), pairWall+d
	}
	res.Group = summarize(grpSamples, grpWall)
	res.Pairwise = summarize(pairSamples, pairWall)
	return res, nil
}

func publish(ctx context.Context, s *chat.Service) error {
	for s.PublishPrekeys(ctx) != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("prekeys of %s were not published: %w", s.PeerID(), ctx.Err())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

// warmUp sends one 1:1 message from a to b until it is delivered directly;
// b republishes its bundle while a cannot find it (its first publication
// may have reached few peers while the routing tables filled).
func warmUp(ctx context.Context, a, b *chat.Service) error {
	for {
		m, err := a.Send(ctx, b.PeerID(), "warm up", 0)
		if err == nil && m.Status == chat.StatusDelivered {
			return nil
		}
		if err != nil && !errors.Is(err, chat.ErrNoPrekeys) {
			return fmt.Errorf("first message to %s: %w", b.PeerID(), err)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("first message to %s: %w", b.PeerID(), ctx.Err())
		}
		_ = b.PublishPrekeys(ctx)
		time.Sleep(100 * time.Millisecond)
	}
}

// groupRound sends one group message and returns how long it took until
// all want other members had acknowledged their copies.
func groupRound(ctx context.Context, s *chat.Service, g chat.GroupID, text string, want int) (time.Duration, error) {
	t0 := time.Now()
	m, err := s.SendGroup(ctx, g, text, 0)
	d := time.Since(t0)
	if err != nil {
		return 0, fmt.Errorf("group send: %w", err)
	}
	if m.Fanout == nil || m.Fanout.Delivered != want {
		return 0, fmt.Errorf("group send reached %+v, want %d delivered directly", m.Fanout, want)
	}
	return d, nil
}

// pairwiseRound sends text 1:1 to every member, pairwiseLimit at once, and
// returns how long it took until all acknowledged.
func pairwiseRound(ctx context.Context, s *chat.Service, members []peer.ID, text string) (time.Duration, error) {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	sem := make(chan struct{}, pairwiseLimit)
	t0 := time.Now()
	for _, p := range members {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			m, err := s.Send(ctx, p, text, 0)
			if err == nil && m.Status != chat.StatusDelivered {
				err = fmt.Errorf("status %s", m.Status)
			}
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = fmt.Errorf("pairwise send to %s: %w", p, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return time.Since(t0), firstErr
}
