package main

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/klauspost/reedsolomon"
	"github.com/libp2p/go-libp2p/core/network"

	"github.com/tonmesh/tonmesh/internal/harness/peers"
	"github.com/tonmesh/tonmesh/p2p"
)

// sinkProtocol reads a stream to its end and answers one byte.
var sinkProtocol = p2p.ProtocolID("benchvault", "sink", "1.0.0")

const chunk = 1 << 20

func serveSink(p *peers.Peer) {
	p.Net.Handle(sinkProtocol, func(_ context.Context, s network.Stream) error {
		if _, err := io.Copy(io.Discard, s); err != nil {
			return err
		}
		_, err := s.Write([]byte{1})
		return err
	}, 5*time.Minute)
}

// send writes n bytes to to over one stream and waits for the sink's
// answer, so the bytes were all received.
func send(ctx context.Context, from, to *peers.Peer, n int) error {
	s, err := from.Net.Host().NewStream(ctx, to.Net.ID(), sinkProtocol)
	if err != nil {
		return err
	}
	buf := make([]byte, chunk)
	for left := n; left > 0; left -= chunk {
		if _, err := s.Write(buf[:min(left, chunk)]); err != nil {
			s.Reset()
			return err
		}
	}
	if err := s.CloseWrite(); err != nil {
		s.Reset()
		return err
	}
	var ack [1]byte
	if _, err := io.ReadFull(s, ack[:]); err != nil {
		s.Reset()
		return fmt.Errorf("no answer from the sink: %w", err)
	}
	return s.Close()
}

// streamOne is the owner -> one holder throughput of one stream, in MB/s.
func streamOne(ctx context.Context, from, to *peers.Peer, n int) (float64, error) {
	serveSink(to)
	defer to.Net.RemoveHandler(sinkProtocol)
	if err := send(ctx, from, to, chunk); err != nil { // warm up
		return 0, err
	}
	t0 := time.Now()
	if err := send(ctx, from, to, n); err != nil {
		return 0, err
	}
	return mbps(n, time.Since(t0)), nil
}

// streamAll is the owner -> all holders aggregate throughput, n bytes in
// all over one stream per holder at once, in MB/s: what a put does.
func streamAll(ctx context.Context, from *peers.Peer, to []*peers.Peer, n int) (float64, error) {
	for _, p := range to {
		serveSink(p)
		defer p.Net.RemoveHandler(sinkProtocol)
	}
	for _, p := range to { // warm up: connections and stream windows
		if err := send(ctx, from, p, chunk); err != nil {
			return 0, err
		}
	}
	per := n / len(to)
	errs := make([]error, len(to))
	var wg sync.WaitGroup
	t0 := time.Now()
	for i, p := range to {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = send(ctx, from, p, per)
		}()
	}
	wg.Wait()
	d := time.Since(t0)
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	return mbps(per*len(to), d), nil
}

// rawCrypto measures AES-256-GCM seal + Reed-Solomon encode, and
// Reed-Solomon reconstruction (the n-k first data shards missing) + open,
// of size bytes, in MB/s of plaintext, for about half a second each.
func rawCrypto(size, k, n int) (seal, open float64, err error) {
	plain := make([]byte, size)
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return 0, 0, err
	}
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return 0, 0, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return 0, 0, err
	}
	enc, err := reedsolomon.New(k, n-k)
	if err != nil {
		return 0, 0, err
	}
	nonce := make([]byte, aead.NonceSize())
	var shards [][]byte
	var sealed []byte
	seal, err = repeat(size, func() error {
		sealed = aead.Seal(sealed[:0], nonce, plain, nil)
		if shards, err = enc.Split(sealed); err != nil {
			return err
		}
		return enc.Encode(shards)
	})
	if err != nil {
		return 0, 0, err
	}
	work := make([][]byte, n)
	spare := make([][]byte, n-k) // reused for the rebuilt shards
	for i := range spare {
		spare[i] = make([]byte, 0, len(shards[0]))
	}
	ct := make([]byte, 0, len(shards[0])*k)
	out := make([]byte, 0, size)
	open, err = repeat(size, func() error {
		copy(work, shards)
		for i := range n - k {
			work[i] = spare[i][:0]
		}
		if err := enc.ReconstructData(work); err != nil {
			return err
		}
		ct = ct[:0]
		for _, s := range work[:k] {
			ct = append(ct, s...)
		}
		_, err := aead.Open(out[:0], nonce, ct[:len(sealed)], nil)
		return err
	})
	return seal, open, err
}

// repeat runs f until half a second has passed (at least 3 times) and
// returns the throughput of size bytes per run in MB/s.
func repeat(size int, f func() error) (float64, error) {
	runs := 0
	t0 := time.Now()
	for runs < 3 || time.Since(t0) < 500*time.Millisecond {
		if err := f(); err != nil {
			return 0, err
		}
		runs++
	}
	return mbps(size*runs, time.Since(t0)), nil
}
