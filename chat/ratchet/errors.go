package ratchet

import "errors"

var (
	// ErrAuth: the message failed authentication (forged, corrupted, or bound
	// to other associated data). Drop it and report it; the session is unchanged.
	ErrAuth = errors.New("ratchet: message failed authentication")
	// ErrDuplicate: the message was already decrypted (or its skipped key was
	// evicted); its key is gone, so it cannot be decrypted again.
	ErrDuplicate = errors.New("ratchet: message already decrypted")
	// ErrTooManySkipped: decrypting the message would skip more than MaxSkip
	// message keys in one chain.
	ErrTooManySkipped = errors.New("ratchet: too many skipped messages")
	// ErrMalformed: bytes that are not a valid bundle, message or session state.
	ErrMalformed = errors.New("ratchet: malformed input")
	// ErrBadSignature: a bundle's prekey signature does not verify.
	ErrBadSignature = errors.New("ratchet: bad prekey signature")
	// ErrUnknownPrekey: Respond got an init message for a prekey id it does
	// not hold (the sender used an old or foreign bundle).
	ErrUnknownPrekey = errors.New("ratchet: unknown prekey id")
	// ErrSessionMismatch: the message carries an init header of another
	// session than this one (the peer started a new session, or both sides
	// initiated at once); call Respond to build the session it belongs to.
	ErrSessionMismatch = errors.New("ratchet: message belongs to another session")
	// ErrCannotSend: the session has no sending chain yet (a responder must
	// decrypt the first message before it can reply).
	ErrCannotSend = errors.New("ratchet: session cannot send yet")
)
