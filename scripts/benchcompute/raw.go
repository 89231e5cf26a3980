package main

import (
	"context"
	"fmt"
	"io"
	"syscall"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/tonmesh/tonmesh/internal/benchutil"
	"github.com/tonmesh/tonmesh/ledger"
	"github.com/tonmesh/tonmesh/p2p"
)

// echoProtocol is the bench's own bare protocol: it echoes 1 KiB frames.
var echoProtocol = p2p.ProtocolID("bench", "echo", "1.0.0")

const echoSize = 1 << 10

// rawStream measures bare libp2p from the client's host to the proxy's:
// n 1 KiB echoes on a new stream each, then n on one stream.
func rawStream(ctx context.Context, b *bench, n int) (RawStream, error) {
	client, proxy := b.peers[3].Net.Host(), b.peers[1].Net.Host()
	proxy.SetStreamHandler(echoProtocol, func(s network.Stream) {
		defer s.Close()
		buf := make([]byte, echoSize)
		for {
			if _, err := io.ReadFull(s, buf); err != nil {
				return
			}
			if _, err := s.Write(buf); err != nil {
				return
			}
		}
	})
	defer proxy.RemoveStreamHandler(echoProtocol)
	msg, buf := make([]byte, echoSize), make([]byte, echoSize)
	echo := func(s network.Stream) error {
		if _, err := s.Write(msg); err != nil {
			return err
		}
		_, err := io.ReadFull(s, buf)
		return err
	}
	var r RawStream
	var fresh []time.Duration
	for range n {
		start := time.Now()
		s, err := client.NewStream(ctx, proxy.ID(), echoProtocol)
		if err != nil {
			return r, fmt.Errorf("open a stream: %w", err)
		}
		err = echo(s)
		_ = s.Close()
		if err != nil {
			return r, err
		}
		fresh = append(fresh, time.Since(start))
	}
	r.NewStream = benchutil.Summarize(fresh, 0)
	s, err := client.NewStream(ctx, proxy.ID(), echoProtocol)
	if err != nil {
		return r, fmt.Errorf("open a stream: %w", err)
	}
	defer s.Close()
	var reused []time.Duration
	for range n {
		start := time.Now()
		if err := echo(s); err != nil {
			return r, err
		}
		reused = append(reused, time.Since(start))
	}
	r.Reused = benchutil.Summarize(reused, 0)
	return r, nil
}

// durability sums what the four peers' stores made durable so far.
func (b *bench) durability() ledger.Durability {
	var d ledger.Durability
	for _, p := range b.peers {
		pd := p.Store.Durability()
		d.Commits += pd.Commits
		d.Fsyncs += pd.Fsyncs
	}
	return d
}

// cpuTime is the CPU time this process has used (user and system): the
// figure to compare changes by on a machine shared with other load.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
