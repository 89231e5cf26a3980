// Package share is Telegram Passport sharing between tonmesh nodes, both
// ends of it:
//
//   - A service node issues an authorization request (passport.Request:
//     its peer ID, scope, RSA public key, nonce, callback), shown as a
//     tonmesh://passport link or delivered to a user's node.
//   - The user's node keeps pending requests, shows each with exactly the
//     fields and files it asks for and the types the owner lacks, and on
//     approval builds the share from the owner's elements (Source) in the
//     Telegram Passport format (package passport: only the requested
//     elements and parts) and delivers it to the service node; or tells
//     the service it declined. Every approved share is journaled (kind
//     share, key "share:<service>:<nonce>").
//   - The service node stores what it receives, decrypts it with its
//     private key on request, sends element errors back (the user sees
//     them), and, acting as a verifier, signs attestations of received
//     elements and sends them to the owner, who stores them and may attach
//     them to later shares. An attestation may carry derived claims
//     (age_over_18, resident_of:DE, document_valid …) as salted digests;
//     their disclosures go to the owner only (claims.go).
//   - A scope entry that asks claims ({"type":"personal_details",
//     "claims":["age_over_18"]}) is answered with a ClaimProof beside the
//     Telegram Passport data: the owner's attestation's claim part, the
//     disclosures of exactly the asked claims, and the owner's key binding
//     to this service and nonce. The element itself is not sent.
//
// Everything travels over the stream protocol /tonmesh/vault/share/1.0.0
// (wire.go): a header frame (kind byte and strict JSON), a share's files
// as further frames, and a JSON reply frame that carries the reason of a
// refusal.
//
// It owns the store space "vault-share" (layout in store.go) and the
// protocol.
//
// Invariants:
//   - A nonce is used once. A service node accepts a share only for a
//     request it issued that is still open, and marks it received in the
//     same batch that stores the share, so a replay — also after a restart
//     — is refused. A user node records its answer (approved or declined)
//     durably and refuses to approve or re-add the same (service, nonce).
//   - A request delivered over the protocol must come from the peer it
//     names as the service; shares are delivered only to that peer, which
//     libp2p authenticates.
//   - A share is built only when the owner has every type the scope
//     requires (one_of: any option), and holds only what the scope asks.
//   - Element errors are accepted only from a service the user shared with,
//     about that share; attestations only when signed by the sending peer,
//     about this node, valid now, and for a type shared with that peer.
//   - The service node never stores the private key; it keeps the
//     decrypted elements' digests (for attesting), not their contents.
//     Claims are derived only from an element decrypted in the same call.
//   - A share's claim proofs are verified on arrival, before it is stored
//     (verifier signature, validity, every disclosure among the signed
//     digests, subject = sender, key binding to this node and this
//     request's nonce, exactly the claims asked); a share that fails is
//     refused with the reason and the request stays open. A claim the
//     owner holds no attestation for fails the approval, naming it.
//   - The owner's disclosures are stored apart from the attestation
//     (attd/) and leave the node only inside a ClaimProof, only those a
//     request asks.
package share
