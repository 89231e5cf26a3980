package seal

import (
	"crypto/hpke"
	"errors"
	"fmt"
	"time"
)

const (
	// infoPrefix domain-separates tonmesh's HPKE info from other uses of the
	// same key.
	infoPrefix = "tonmesh/compute/seal/v1"
	// exportLabel is the HPKE exporter context for the response secret.
	exportLabel = "tonmesh response"
	secretSize  = 32
)

// Errors a caller may want to tell apart.
var (
	// ErrKeyExpired: the envelope names a key expiry in the past.
	ErrKeyExpired = errors.New("seal: the worker key this request was sealed to has expired: fetch the worker's current offer and seal again")
	// ErrOpen: the envelope is not sealed to this key or was changed on the way.
	ErrOpen = errors.New("seal: request does not open: it is not sealed to this worker's key, or its metadata or ciphertext was changed on the way")
)

func hpkeInfo(meta []byte) []byte {
	return append([]byte(infoPrefix), meta...)
}

// SealRequest encrypts body (the client's OpenAI JSON) to the worker's
// public key, binding meta. It returns the envelope to send and the
// opener for the worker's response records; keep the opener for the life
// of the request.
func SealRequest(workerPub []byte, meta Meta, body []byte) (*Envelope, *ResponseOpener, error) {
	if err := meta.Validate(); err != nil {
		return nil, nil, err
	}
	pub, err := ParsePublicKey(workerPub)
	if err != nil {
		return nil, nil, fmt.Errorf("seal: worker key: %w", err)
	}
	m := meta.Marshal()
	enc, sender, err := hpke.NewSender(pub.k, kdf(), aead(), hpkeInfo(m))
	if err != nil {
		return nil, nil, fmt.Errorf("seal: set up HPKE to the worker key: %w", err)
	}
	ct, err := sender.Seal(m, body)
	if err != nil {
		return nil, nil, fmt.Errorf("seal: encrypt the request: %w", err)
	}
	env := &Envelope{Meta: meta, Enc: enc, Ciphertext: ct}
	if n := len(env.Marshal()); n > MaxEnvelopeSize {
		return nil, nil, fmt.Errorf("seal: request body of %d bytes makes a %d-byte envelope, over the limit of %d: shorten the request", len(body), n, MaxEnvelopeSize)
	}
	secret, err := sender.Export(exportLabel, secretSize)
	if err != nil {
		return nil, nil, fmt.Errorf("seal: export the response secret: %w", err)
	}
	return env, &ResponseOpener{secret: secret}, nil
}

// OpenRequest decrypts env with the worker's private key. It refuses an
// envelope whose key expiry is not after now (ErrKeyExpired) and one that
// does not open (ErrOpen: wrong key, changed metadata or ciphertext). It
// returns the body and the sealer for the response records.
func OpenRequest(priv *PrivateKey, env *Envelope, now time.Time) (body []byte, rs *ResponseSealer, err error) {
	if err := env.Meta.Validate(); err != nil {
		return nil, nil, err
	}
	if now.Unix() >= env.Meta.KeyExpiry {
		return nil, nil, fmt.Errorf("%w (expired %s)", ErrKeyExpired, time.Unix(env.Meta.KeyExpiry, 0).UTC().Format(time.RFC3339))
	}
	m := env.Meta.Marshal()
	r, err := hpke.NewRecipient(env.Enc, priv.k, kdf(), aead(), hpkeInfo(m))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrOpen, err)
	}
	body, err = r.Open(m, env.Ciphertext)
	if err != nil {
		return nil, nil, ErrOpen
	}
	secret, err := r.Export(exportLabel, secretSize)
	if err != nil {
		return nil, nil, fmt.Errorf("seal: export the response secret: %w", err)
	}
	rs, err = newResponseSealer(secret)
	if err != nil {
		return nil, nil, err
	}
	return body, rs, nil
}
