package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/tonmesh/tonmesh/chat"
	"github.com/tonmesh/tonmesh/internal/benchutil"
	"github.com/tonmesh/tonmesh/ledger"
	"github.com/tonmesh/tonmesh/p2p"
	"github.com/tonmesh/tonmesh/p2p/identity"
)

type config struct {
	Messages int
	Workers  int
	Size     int
	Dir      string
	JSON     bool
	// Group is the size of the group measure's group (0: skip it), with
	// one node per member; GroupMessages how many group messages it times.
	Group         int
	GroupMessages int
	// CPUProfile, if set, is where a CPU profile of the chat measures (not
	// the raw round trips) is written.
	CPUProfile string
	// Mailbox runs the mailbox measures (off: direct messages only, for a
	// profile of the direct path alone).
	Mailbox bool
}

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("bench-chat", flag.ContinueOnError)
	fs.IntVar(&c.Messages, "messages", 300, "messages per measure")
	fs.IntVar(&c.Workers, "workers", 8, "concurrent senders for the direct throughput measure")
	fs.IntVar(&c.Size, "size", 100, "text size in bytes")
	fs.StringVar(&c.Dir, "dir", "", "directory for the nodes' stores (default: a temporary one)")
	fs.BoolVar(&c.JSON, "json", false, "print JSON")
	fs.IntVar(&c.Group, "group", 50, "members of the group measure, one in-process node each (0: skip it)")
	fs.IntVar(&c.GroupMessages, "group-messages", 50, "group messages (and as many rounds of pairwise messages) in the group measure")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write a CPU profile of the chat measures to this file (read it with `go tool pprof`)")
	fs.BoolVar(&c.Mailbox, "mailbox", true, "run the mailbox measures (--mailbox=false: direct messages only, e.g. to profile them)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	case c.Messages < 1 || c.Workers < 1:
		return c, errors.New("--messages and --workers must be at least 1")
	case c.Group == 1 || c.Group < 0 || c.GroupMessages < 1:
		return c, errors.New("--group must be 0 (skip) or at least 2, and --group-messages at least 1")
	case c.Size < 1 || c.Size > chat.MaxText:
		return c, fmt.Errorf("--size must be 1..%d", chat.MaxText)
	}
	return c, nil
}

// Latency summarizes samples.
type Latency struct {
	N     int     `json:"n"`
	P50MS float64 `json:"p50_ms"`
	P99MS float64 `json:"p99_ms"`
	PerS  float64 `json:"per_s"` // N over the wall time of the measure
	// CPUUS is the CPU time of the whole process (both ends, every node)
	// per sample, in microseconds; only for the direct measures.
	CPUUS float64 `json:"cpu_us_per_msg,omitempty"`
}

// cpuPer is the process's CPU time since since0, per message of n, in µs.
func cpuPer(since0 time.Duration, n int) float64 {
	return float64((benchutil.ProcessCPU() - since0).Microseconds()) / float64(n)
}

// Results are all figures of one run.
type Results struct {
	RawRoundTrip Latency `json:"raw_stream_round_trip"`
	// RawReused is the same exchange on one stream kept open, as direct
	// messages reuse theirs.
	RawReused Latency `json:"raw_round_trip_reused_stream"`
	// RawDurable is the stores' disk alone: two files (a sender's and a
	// receiver's log, as on this one machine) each appended a message's
	// worth and fsynced at once.
	RawDurable     Latency `json:"raw_durable_append_two_at_once"`
	DirectSeq      Latency `json:"direct_sequential"`
	DirectParallel Latency `json:"direct_parallel"`
	MailboxDeposit Latency `json:"mailbox_deposit"` // sealed, with proof of work
	// PlainDeposit is the deposit as before sealing (the holders see the
	// signed envelope); Stamp is the proof of work alone, per holder.
	PlainDeposit Latency `json:"mailbox_deposit_plain"`
	Stamp        Latency `json:"proof_of_work_per_holder"`
	PowBits      int     `json:"pow_bits"`
	MailboxFetch Latency `json:"mailbox_fetch"`
	Holders      int     `json:"mailbox_holders"`
	// SenderFsyncs and ReceiverFsyncs are WAL fsyncs per message on each
	// side during the parallel measure (below 1: messages shared them).
	SenderFsyncs   float64 `json:"parallel_sender_fsyncs_per_message"`
	ReceiverFsyncs float64 `json:"parallel_receiver_fsyncs_per_message"`
	// Group is the group measure, on its own nodes; nil when skipped.
	Group *GroupResults `json:"group,omitempty"`
}

func nearestRank(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (p*len(sorted)+99)/100 - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func summarize(samples []time.Duration, wall time.Duration) Latency {
	s := slices.Clone(samples)
	slices.Sort(s)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	l := Latency{N: len(s), P50MS: ms(nearestRank(s, 50)), P99MS: ms(nearestRank(s, 99))}
	if wall > 0 {
		l.PerS = float64(len(s)) / wall.Seconds()
	}
	return l
}

func main() {
	c, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-chat:", err)
		os.Exit(2)
	}
	res, err := run(context.Background(), c, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-chat:", err)
		os.Exit(1)
	}
	if c.JSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(res)
		return
	}
	printTable(os.Stdout, c, res)
}

func printTable(w io.Writer, c config, r *Results) {
	fmt.Fprintf(w, "chat on loopback, 4 in-process nodes, %d messages of %d bytes per measure\n\n", c.Messages, c.Size)
	fmt.Fprintf(w, "%-44s %8s %10s %10s %12s\n", "measure", "n", "p50 ms", "p99 ms", "per second")
	row := func(name string, l Latency) {
		fmt.Fprintf(w, "%-44s %8d %10.3f %10.3f %12.0f\n", name, l.N, l.P50MS, l.P99MS, l.PerS)
	}
	row("raw stream round trip (same two nodes)", r.RawRoundTrip)
	row("raw round trip, one stream reused", r.RawReused)
	row("raw append + fsync, 2 files at once (disk)", r.RawDurable)
	row("direct send -> durable ack, sequential", r.DirectSeq)
	row(fmt.Sprintf("direct send -> durable ack, %d senders", c.Workers), r.DirectParallel)
	if c.Mailbox {
		row(fmt.Sprintf("mailbox deposit, sealed (%d holders), one by one", r.Holders), r.MailboxDeposit)
		row(fmt.Sprintf("mailbox deposit, plain as before (%d holders)", r.Holders), r.PlainDeposit)
		row(fmt.Sprintf("  of a sealed one: proof of work (%d bits)", r.PowBits), r.Stamp)
		fmt.Fprintf(w, "%-44s %8d %10s %10s %12.0f\n", "mailbox fetch + store + delete (both kinds)", r.MailboxFetch.N, "-", "-", r.MailboxFetch.PerS)
	}
	if r.RawRoundTrip.P50MS > 0 {
		fmt.Fprintf(w, "\ndirect p50 / raw round trip p50 = %.1fx\n", r.DirectSeq.P50MS/r.RawRoundTrip.P50MS)
	}
	if r.RawReused.P50MS > 0 {
		fmt.Fprintf(w, "direct p50 / raw round trip p50 on a reused stream = %.1fx\n", r.DirectSeq.P50MS/r.RawReused.P50MS)
	}
	if floor := r.RawRoundTrip.P50MS + r.RawDurable.P50MS; r.RawDurable.P50MS > 0 {
		fmt.Fprintf(w, "direct p50 / (raw round trip + raw durable append at both ends) p50 = %.1fx (that floor alone is %.1fx the round trip)\n",
			r.DirectSeq.P50MS/floor, floor/r.RawRoundTrip.P50MS)
	}
	fmt.Fprintf(w, "WAL fsyncs per message with %d senders: sender %.2f, receiver %.2f\n", c.Workers, r.SenderFsyncs, r.ReceiverFsyncs)
	fmt.Fprintf(w, "CPU per direct message (whole process, both ends): sequential %.0f µs, %d senders %.0f µs\n", r.DirectSeq.CPUUS, c.Workers, r.DirectParallel.CPUUS)
	if g := r.Group; g != nil {
		fmt.Fprintf(w, "\ngroup of %d members on %d in-process nodes (one each; up in %.0f s), %d bytes, from one member to the %d others\n\n",
			g.Members, g.Nodes, g.StartS, c.Size, g.Members-1)
		fmt.Fprintf(w, "%-44s %8s %10s %10s %12s\n", "measure", "n", "p50 ms", "p99 ms", "per second")
		row("group send -> all acked (one message)", g.Group)
		row(fmt.Sprintf("%d pairwise sends -> all acked", g.Members-1), g.Pairwise)
		if g.Group.P50MS > 0 {
			fmt.Fprintf(w, "\npairwise p50 / group p50 = %.1fx (both fan out %d at a time)\n", g.Pairwise.P50MS/g.Group.P50MS, pairwiseLimit)
		}
	}
}

// benchNode is one in-process node: store, network and chat service.
type benchNode struct {
	store *ledger.Store
	net   *p2p.Network
	chat  *chat.Service
	id    *identity.Identity
}

func (n *benchNode) close() {
	if n.chat != nil {
		n.chat.Stop()
	}
	if n.net != nil {
		_ = n.net.Close()
	}
	if n.store != nil {
		_ = n.store.Close()
	}
}

func startNode(ctx context.Context, dir string, bootstrap []string, cfg chat.Config, log *slog.Logger) (*benchNode, error) {
	words, err := identity.NewMnemonic()
	if err != nil {
		return nil, err
	}
	id, err := identity.FromMnemonic(words)
	if err != nil {
		return nil, err
	}
	n := &benchNode{id: id}
	if n.store, err = ledger.Open(dir); err != nil {
		return nil, err
	}
	n.net, err = p2p.New(ctx, id.PeerKey, p2p.Config{ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}, Bootstrap: bootstrap})
	if err != nil {
		n.close()
		return nil, err
	}
	if err := n.net.Start(ctx); err != nil {
		n.close()
		return nil, err
	}
	if n.chat, err = chat.New(n.store, n.net, id, cfg, log); err != nil {
		n.close()
		return nil, err
	}
	if err := n.chat.Start(ctx); err != nil {
		n.close()
		return nil, err
	}
	return n, nil
}

const (
	echoProtocol   = "/tonmesh/benchchat/echo/1.0.0"
	streamProtocol = "/tonmesh/benchchat/echo-stream/1.0.0"
)

func run(ctx context.Context, c config, progress io.Writer) (*Results, error) {
	log := slog.New(slog.DiscardHandler)
	dir := c.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "bench-chat-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	var nodes []*benchNode
	defer func() {
		for _, n := range nodes {
			n.close()
		}
	}()
	var boot []string
	for i := range 4 {
		// Node 1 deposits plain items, as nodes did before sealing, for the
		// comparison; node 0 seals.
		cfg := chat.Config{MailboxPoll: time.Hour, PlainDeposits: i == 1}
		n, err := startNode(ctx, filepath.Join(dir, "node"+strconv.Itoa(i)), boot, cfg, log)
		if err != nil {
			return nil, fmt.Errorf("start node %d: %w", i, err)
		}
		nodes = append(nodes, n)
		if i == 0 {
			boot = []string{n.net.Addrs()[0].String()}
		}
	}
	fmt.Fprintln(progress, "nodes up; waiting for the DHT and the prekeys")
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for _, n := range nodes {
		if err := n.net.WaitDHTPeers(wctx, 2); err != nil {
			return nil, fmt.Errorf("wait for DHT peers: %w", err)
		}
	}
	for _, n := range nodes {
		for n.chat.PublishPrekeys(wctx) != nil {
			if wctx.Err() != nil {
				return nil, errors.New("prekeys were not published within a minute")
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	a, b, rcpt := nodes[0], nodes[1], nodes[2]
	text := string(make([]byte, c.Size))
	res := &Results{}

	// Raw round trips: the floor.
	b.net.HandleRequest(echoProtocol, func(_ context.Context, _ peer.ID, req []byte) ([]byte, error) { return req, nil }, 1<<20, 10*time.Second)
	payload := make([]byte, 512)
	var raw []time.Duration
	start := time.Now()
	for range c.Messages {
		t0 := time.Now()
		if _, err := a.net.Request(ctx, b.net.ID(), echoProtocol, payload, 1<<20); err != nil {
			return nil, fmt.Errorf("raw round trip: %w", err)
		}
		raw = append(raw, time.Since(t0))
	}
	res.RawRoundTrip = summarize(raw, time.Since(start))
	reused, err := reusedRoundTrips(ctx, a, b, payload, c.Messages)
	if err != nil {
		return nil, err
	}
	res.RawReused = reused
	fmt.Fprintln(progress, "raw round trips done")
	durable, err := benchutil.DurableWrites(dir, 2, 300, min(c.Messages, 1000))
	if err != nil {
		return nil, err
	}
	res.RawDurable = summarize(durable, benchutil.Total(durable))

	if c.CPUProfile != "" {
		stopProfile, err := benchutil.StartCPUProfile(c.CPUProfile)
		if err != nil {
			return nil, err
		}
		defer stopProfile()
	}
	// The first message starts the session (DHT lookup of the bundle); it is
	// not counted.
	if _, err := a.chat.Send(ctx, b.net.ID(), "warm up", 0); err != nil {
		return nil, fmt.Errorf("first direct message: %w", err)
	}
	var direct []time.Duration
	cpu0 := benchutil.ProcessCPU()
	start = time.Now()
	for range c.Messages {
		t0 := time.Now()
		m, err := a.chat.Send(ctx, b.net.ID(), text, 0)
		if err != nil || m.Status != chat.StatusDelivered {
			return nil, fmt.Errorf("direct send: status %v: %w", m, err)
		}
		direct = append(direct, time.Since(t0))
	}
	res.DirectSeq = summarize(direct, time.Since(start))
	res.DirectSeq.CPUUS = cpuPer(cpu0, c.Messages)
	fmt.Fprintln(progress, "direct sequential done")

	da, db := a.store.Durability(), b.store.Durability()
	cpu0 = benchutil.ProcessCPU()
	par, wall, err := parallelSends(ctx, a, b, text, c.Messages, c.Workers)
	parCPU := cpuPer(cpu0, c.Messages)
	da2, db2 := a.store.Durability(), b.store.Durability()
	res.SenderFsyncs = float64(da2.Fsyncs-da.Fsyncs) / float64(c.Messages)
	res.ReceiverFsyncs = float64(db2.Fsyncs-db.Fsyncs) / float64(c.Messages)
	if err != nil {
		return nil, err
	}
	res.DirectParallel = summarize(par, wall)
	res.DirectParallel.CPUUS = parCPU
	fmt.Fprintln(progress, "direct parallel done")
	if !c.Mailbox {
		return res, nil
	}

	// Mailboxes: the recipient's chat service stops (it answers the
	// message protocol no more, on open streams neither; it still fetches
	// its mailbox below). a seals its deposits; b deposits plain ones, as
	// before sealing.
	for _, n := range []*benchNode{a, b} {
		if _, err := n.chat.Send(ctx, rcpt.net.ID(), "warm up", 0); err != nil {
			return nil, fmt.Errorf("first message to the mailbox recipient: %w", err)
		}
	}
	rcpt.chat.Stop()
	deposit := func(from *benchNode) (Latency, error) {
		var deposits []time.Duration
		start := time.Now()
		for range c.Messages {
			t0 := time.Now()
			m, err := from.chat.Send(ctx, rcpt.net.ID(), text, 0)
			if err != nil || m.Status != chat.StatusMailbox {
				return Latency{}, fmt.Errorf("mailbox send: %+v: %w", m, err)
			}
			res.Holders = m.Holders
			deposits = append(deposits, time.Since(t0))
		}
		return summarize(deposits, time.Since(start)), nil
	}
	if res.MailboxDeposit, err = deposit(a); err != nil {
		return nil, err
	}
	if res.PlainDeposit, err = deposit(b); err != nil {
		return nil, err
	}
	stamps, err := chat.MintStamps(ctx, 0, c.Messages)
	if err != nil {
		return nil, err
	}
	res.Stamp = summarize(stamps, benchutil.Total(stamps))
	res.PowBits = chat.DefaultPowBits()
	fmt.Fprintln(progress, "mailbox deposits done")

	start = time.Now()
	got := 0
	for got < 2*c.Messages {
		n, err := rcpt.chat.FetchMailbox(ctx)
		if err != nil {
			return nil, fmt.Errorf("fetch mailbox: %w", err)
		}
		if n == 0 {
			return nil, fmt.Errorf("fetch mailbox: got %d of %d messages", got, 2*c.Messages)
		}
		got += n
	}
	fetchWall := time.Since(start)
	res.MailboxFetch = Latency{N: got, PerS: float64(got) / fetchWall.Seconds()}
	if c.Group == 0 {
		return res, nil
	}
	// The group measure runs on its own nodes, with these stopped.
	for _, n := range nodes {
		n.close()
	}
	nodes = nil
	if res.Group, err = runGroup(ctx, c, dir, progress); err != nil {
		return nil, fmt.Errorf("group measure: %w", err)
	}
	return res, nil
}

// parallelSends sends n messages from workers goroutines at once.
func parallelSends(ctx context.Context, a, b *benchNode, text string, n, workers int) ([]time.Duration, time.Duration, error) {
	var (
		mu       sync.Mutex
		samples  []time.Duration
		firstErr error
		wg       sync.WaitGroup
	)
	jobs := make(chan struct{}, n)
	for range n {
		jobs <- struct{}{}
	}
	close(jobs)
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				t0 := time.Now()
				m, err := a.chat.Send(ctx, b.net.ID(), text, 0)
				mu.Lock()
				if err == nil && m.Status != chat.StatusDelivered {
					err = fmt.Errorf("status %s", m.Status)
				}
				if err != nil && firstErr == nil {
					firstErr = err
				}
				samples = append(samples, time.Since(t0))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, 0, fmt.Errorf("parallel direct send: %w", firstErr)
	}
	return samples, time.Since(start), nil
}

// reusedRoundTrips times n exchanges of payload on one stream from a to b.
func reusedRoundTrips(ctx context.Context, a, b *benchNode, payload []byte, n int) (Latency, error) {
	b.net.Handle(streamProtocol, func(_ context.Context, s network.Stream) error {
		for {
			req, err := p2p.ReadFrame(s, 1<<20)
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := p2p.WriteFrame(s, req); err != nil {
				return err
			}
		}
	}, 10*time.Minute)
	s, err := a.net.Host().NewStream(ctx, b.net.ID(), streamProtocol)
	if err != nil {
		return Latency{}, fmt.Errorf("raw round trip on one stream: %w", err)
	}
	defer s.Close()
	var samples []time.Duration
	start := time.Now()
	for range n {
		t0 := time.Now()
		if err := p2p.WriteFrame(s, payload); err != nil {
			return Latency{}, fmt.Errorf("raw round trip on one stream: %w", err)
		}
		if _, err := p2p.ReadFrame(s, 1<<20); err != nil {
			return Latency{}, fmt.Errorf("raw round trip on one stream: %w", err)
		}
		samples = append(samples, time.Since(t0))
	}
	return summarize(samples, time.Since(start)), nil
}
