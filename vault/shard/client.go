package shard

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"

	"github.com/tonmesh/tonmesh/p2p"
)

// clientTimeout bounds an exchange whose ctx has no deadline.
const clientTimeout = DefaultTimeout

// eagerMax is the largest shard that Put sends with its header, without
// waiting for the holder's go-ahead: a refusal then wastes little, and the
// put takes one round trip instead of two.
const eagerMax = 256 << 10

// Put stores data on holder under the delete key deleteKey (the public half
// of a key made for this one shard) and returns the holder's receipt, after
// checking that it is signed by holder and names this shard and size.
// Refusals come back as ErrTooLarge, ErrQuota, ErrCorrupt or ErrRefused.
func Put(ctx context.Context, net *p2p.Network, holder peer.ID, data []byte, deleteKey ed25519.PublicKey) (*Receipt, error) {
	return PutShard(ctx, net, holder, CIDOf(data), data, deleteKey)
}

// PutShard is Put of a shard whose CID the caller has (Encode's, or the
// manifest's), so that it is not hashed again here: the holder checks the
// bytes against c and refuses a mismatch (ErrCorrupt).
func PutShard(ctx context.Context, net *p2p.Network, holder peer.ID, c cid.Cid, data []byte, deleteKey ed25519.PublicKey) (*Receipt, error) {
	if len(data) == 0 {
		return nil, errors.New("shard: put: empty shard")
	}
	if len(deleteKey) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("shard: put: delete key is %d bytes, want an Ed25519 public key of %d", len(deleteKey), ed25519.PublicKeySize)
	}
	if err := checkCIDFormat(c); err != nil {
		return nil, fmt.Errorf("shard: put %s: %w", c, err)
	}
	if len(data) > MaxShardSize {
		return nil, fmt.Errorf("shard: put %s on %s: %w: %d bytes, the protocol carries at most %d", c, holder, ErrTooLarge, len(data), MaxShardSize)
	}
	q := &request{Op: opPut, CID: c, Size: len(data), DeleteKey: deleteKey}
	var raw []byte
	err := exchange(ctx, net, holder, func(s network.Stream) error {
		eager := len(data) <= eagerMax
		if err := p2p.WriteFrame(s, q.encode()); err != nil {
			return fmt.Errorf("send request: %w", err)
		}
		sendData := func() error {
			if err := p2p.WriteFrame(s, data); err != nil {
				return fmt.Errorf("send shard: %w", err)
			}
			if err := s.CloseWrite(); err != nil {
				return fmt.Errorf("close write side: %w", err)
			}
			return nil
		}
		// The holder's answers decide, not the writes: a holder that
		// refuses at the header, or that has read the data, stored it and
		// answered, may close the stream before this side has closed its
		// write side (over QUIC that fails the close). A send that really
		// failed shows as a missing answer.
		var sendErr error
		if eager {
			sendErr = sendData()
		}
		r, err := readResponse(s, opPut)
		if err != nil {
			return errors.Join(sendErr, err)
		}
		if r.Status == statusContinue {
			if !eager {
				sendErr = sendData()
			}
			if r, err = readResponse(s, opPut); err != nil {
				return errors.Join(sendErr, err)
			}
			if r.Status == statusContinue {
				return errors.New("holder asked for the data twice")
			}
		}
		if err := r.err(); err != nil {
			return err
		}
		raw = r.Receipt
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("shard: put %s on %s: %w", c, holder, err)
	}
	rcpt, err := UnmarshalReceipt(raw)
	if err == nil {
		err = rcpt.Verify()
	}
	if err == nil && (!rcpt.CID.Equals(c) || rcpt.Size != len(data) || rcpt.Holder != holder) {
		err = fmt.Errorf("receipt names shard %s of %d bytes held by %s", rcpt.CID, rcpt.Size, rcpt.Holder)
	}
	if err != nil {
		return nil, fmt.Errorf("shard: put %s on %s: bad receipt, do not count this holder: %w", c, holder, err)
	}
	return rcpt, nil
}

// Get fetches shard c from holder and checks it against c, hashing the
// bytes as they arrive: ErrNotFound if the holder lacks it (or dropped it
// as corrupted), ErrCorrupt if the bytes that came do not match.
func Get(ctx context.Context, net *p2p.Network, holder peer.ID, c cid.Cid) ([]byte, error) {
	return GetInto(ctx, net, holder, c, nil)
}

// GetInto is Get into buf when the shard fits it exactly (len(buf) is its
// size), so that a caller can fetch the shards of an element side by side
// into one buffer; otherwise into a new slice. On error buf's content is
// undefined.
func GetInto(ctx context.Context, net *p2p.Network, holder peer.ID, c cid.Cid, buf []byte) ([]byte, error) {
	if err := checkCIDFormat(c); err != nil {
		return nil, fmt.Errorf("shard: get %s: %w", c, err)
	}
	var data []byte
	ok := false
	err := exchange(ctx, net, holder, func(s network.Stream) error {
		r, err := roundTrip(s, &request{Op: opGet, CID: c})
		if err != nil {
			return err
		}
		if err := r.err(); err != nil {
			return err
		}
		if data, ok, err = readVerified(s, c, buf); err != nil {
			return fmt.Errorf("receive shard: %w", err)
		}
		if !ok {
			// A holder that finds the file it sent corrupt drops it, then
			// closes the stream: wait for that, so that the holder no
			// longer has the shard when this returns.
			_, _ = s.Read(make([]byte, 1))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("shard: get %s from %s: %w", c, holder, err)
	}
	if !ok {
		return nil, fmt.Errorf("shard: get %s from %s: %w: fetch it elsewhere or rebuild it", c, holder, ErrCorrupt)
	}
	return data, nil
}

// readVerified reads one data frame of at most MaxShardSize bytes (into buf
// when it is that long), hashing it as it arrives, and reports whether it
// matches c.
func readVerified(r io.Reader, c cid.Cid, buf []byte) ([]byte, bool, error) {
	n, err := readUvarint(r)
	if err != nil {
		return nil, false, fmt.Errorf("read frame length: %w", err)
	}
	if n > MaxShardSize {
		return nil, false, fmt.Errorf("read frame: length %d: %w (%d bytes)", n, p2p.ErrFrameTooLarge, MaxShardSize)
	}
	data := buf
	if uint64(len(buf)) != n {
		data = make([]byte, n)
	}
	hh := newCIDHash(c)
	for off := 0; off < len(data); {
		k, err := io.ReadFull(r, data[off:min(off+copyBuf, len(data))])
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, false, fmt.Errorf("read frame payload: %w", err)
		}
		hh.Write(data[off : off+k])
		off += k
	}
	return data, bytes.Equal(hh.Sum(nil), digestOf(c)), nil
}

// Challenge asks holder to prove it holds shard c: the answer must equal
// ChallengeAnswer(nonce, shard), which the caller checks (it is returned as
// the holder gave it). Use a fresh random nonce for every challenge.
func Challenge(ctx context.Context, net *p2p.Network, holder peer.ID, c cid.Cid, nonce [32]byte) ([32]byte, error) {
	if err := checkCIDFormat(c); err != nil {
		return [32]byte{}, fmt.Errorf("shard: challenge %s: %w", c, err)
	}
	var answer [32]byte
	err := exchange(ctx, net, holder, func(s network.Stream) error {
		r, err := roundTrip(s, &request{Op: opChallenge, CID: c, Nonce: nonce})
		if err != nil {
			return err
		}
		if err := r.err(); err != nil {
			return err
		}
		answer = r.Answer
		return nil
	})
	if err != nil {
		return [32]byte{}, fmt.Errorf("shard: challenge %s on %s: %w", c, holder, err)
	}
	return answer, nil
}

// Prove asks holder to prove that it holds all of shard c, of size bytes
// (a BLAKE3 shard; see Provable), with a fresh random nonce: it returns
// nil only when the holder's proof verifies against c, ErrBadProof when it
// does not, ErrNotFound when the holder lacks the shard.
func Prove(ctx context.Context, net *p2p.Network, holder peer.ID, c cid.Cid, size int, nonce [32]byte) error {
	if err := checkCIDFormat(c); err != nil || !Provable(c) {
		return fmt.Errorf("shard: prove %s: not a BLAKE3 shard ID: challenge it instead", c)
	}
	var proof []byte
	err := exchange(ctx, net, holder, func(s network.Stream) error {
		r, err := roundTrip(s, &request{Op: opProve, CID: c, Nonce: nonce})
		if err != nil {
			return err
		}
		if err := r.err(); err != nil {
			return err
		}
		proof = r.Proof
		return nil
	})
	if err == nil {
		err = verifyProof(c, size, nonce, proof)
	}
	if err != nil {
		return fmt.Errorf("shard: prove %s on %s: %w", c, holder, err)
	}
	return nil
}

// Delete asks holder to delete shard c, signing the request with the
// shard's delete key. ErrNotFound means the holder no longer has it.
func Delete(ctx context.Context, net *p2p.Network, holder peer.ID, c cid.Cid, deleteKey ed25519.PrivateKey) error {
	if err := checkCIDFormat(c); err != nil {
		return fmt.Errorf("shard: delete %s: %w", c, err)
	}
	if len(deleteKey) != ed25519.PrivateKeySize {
		return fmt.Errorf("shard: delete %s: delete key is %d bytes, want an Ed25519 private key of %d", c, len(deleteKey), ed25519.PrivateKeySize)
	}
	at := time.UnixMilli(time.Now().UnixMilli())
	q := &request{Op: opDelete, CID: c, At: at, Sig: ed25519.Sign(deleteKey, deleteMessage(c, holder, at))}
	err := exchange(ctx, net, holder, func(s network.Stream) error {
		r, err := roundTrip(s, q)
		if err != nil {
			return err
		}
		return r.err()
	})
	if err != nil {
		return fmt.Errorf("shard: delete %s on %s: %w", c, holder, err)
	}
	return nil
}

// exchange opens a stream to holder, runs fn on it and closes it (resets it
// on error). The stream ends with ctx, or after clientTimeout if ctx has no
// deadline.
func exchange(ctx context.Context, net *p2p.Network, holder peer.ID, fn func(network.Stream) error) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, clientTimeout)
		defer cancel()
	}
	if err := findAddrs(ctx, net, holder); err != nil {
		return err
	}
	s, err := net.Host().NewStream(ctx, holder, Protocol)
	if err != nil {
		return fmt.Errorf("open stream: %w", err)
	}
	dl, _ := ctx.Deadline()
	if err := s.SetDeadline(dl); err != nil {
		_ = s.Reset()
		return fmt.Errorf("set stream deadline: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = s.Reset() })
	defer stop()
	if err := fn(s); err != nil {
		_ = s.Reset()
		if ctx.Err() != nil {
			return fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return err
	}
	_ = s.Close()
	return nil
}

// findAddrs looks holder up in the DHT when the node has neither a
// connection to it nor an address for it, as after a restart, when an owner
// knows its holders only by the peer IDs in its manifest.
func findAddrs(ctx context.Context, net *p2p.Network, holder peer.ID) error {
	h := net.Host()
	if h.Network().Connectedness(holder) == network.Connected || len(h.Peerstore().Addrs(holder)) > 0 {
		return nil
	}
	info, err := net.DHT().FindPeer(ctx, holder)
	if err != nil {
		return fmt.Errorf("find the holder's addresses in the DHT: %w", err)
	}
	h.Peerstore().AddAddrs(holder, info.Addrs, peerstore.TempAddrTTL)
	return nil
}

// roundTrip sends a request header and reads the first response.
func roundTrip(s network.Stream, q *request) (*response, error) {
	if err := p2p.WriteFrame(s, q.encode()); err != nil {
		return nil, fmt.Errorf("send request: %w", err)
	}
	if q.Op != opPut && q.Op != opPutStream {
		if err := s.CloseWrite(); err != nil {
			return nil, fmt.Errorf("close write side: %w", err)
		}
	}
	return readResponse(s, q.Op)
}

func readResponse(s network.Stream, op byte) (*response, error) {
	b, err := p2p.ReadFrame(s, maxResponse)
	if errors.Is(err, io.EOF) {
		return nil, errors.New("holder closed the stream without answering")
	}
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	return decodeResponse(b, op)
}
