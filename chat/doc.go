// Package chat is tonmesh's end-to-end encrypted messaging between
// identities (peer IDs): sessions, delivery, offline mailboxes, timers, and
// the chat routes of the local API.
//
// Sessions. Each identity publishes a prekey bundle (package chat/ratchet)
// as a signed DHT record in namespace "chat-prekey" under its peer ID,
// republished every Config.PrekeyRefresh; the signed prekey is rotated every
// Config.PrekeyRotate and the previous one kept. A sender with no session
// fetches the bundle, runs X3DH (ratchet.Initiate) and continues with the
// Double Ratchet. Up to three sessions per peer are kept, the one that last
// decrypted first, so a simultaneous start by both ends converges.
//
// Delivery. A message is a signed envelope (envelope.go): sender, recipient,
// random ID, time, timer and ratchet ciphertext of padded content
// (content.go), signed with the sender's peer key; the envelope header is
// also the ratchet's associated data. It goes directly over
// /tonmesh/chat/msg/1.0.0 when the recipient answers, else to the
// Config.MailboxReplicas peers closest (Kad-DHT) to the recipient's mailbox
// key SHA-256("tonmesh/chat/mailbox" || peer ID) over
// /tonmesh/chat/mailbox/1.0.0 (mailboxwire.go). The recipient fetches its
// mailbox at start and every Config.MailboxPoll, stores each message, then
// has the holders delete it by a request it signs.
//
// It owns: the store spaces "chat" (the user's conversations, sessions,
// prekeys; store.go) and "chat-mailbox" (items held for others;
// mailbox.go), the record namespace "chat-prekey", and both protocols.
//
// Invariants:
//   - A session's new state is durable before its message leaves the node
//     (sending) or is acknowledged (receiving): session and message are
//     written in one batch, so a message key is never reused after a crash
//     and an acknowledged message survives one. The batch is applied under
//     the conversation's lock and waited for after it (ledger
//     Batch.CommitAsync), so concurrent messages share fsyncs (group
//     commit); decoded sessions are cached (sessions.go), the store stays
//     their authority. The recorded outcome of a send (delivered, mailbox,
//     failed) is written after the fact and not waited for: after a crash a
//     message may still read "sending".
//   - A message is stored at most once: its ID is indexed, and a replay (same
//     ID, or a ratchet key already used) is counted as a duplicate, never
//     shown twice. An envelope whose signature, addressing, time, decryption
//     or content fails a check is dropped, logged and counted (Inbox.Rejected
//     and the conversation's Rejected).
//   - Mailbox holders keep only signed envelopes whose bodies are ratchet
//     ciphertext of content padded to one of a few sizes: never plaintext or
//     keys. They accept an item only from its sender, within per-sender
//     quotas (items and bytes) and a maximum age, return a mailbox only to
//     a fetch signed by its owner, and delete an item only on a request
//     signed by the owner or by the item's sender.
//   - A message with a timer is deleted from this node's store when it
//     expires (Config.SweepInterval), by the recipient likewise, by holders
//     at the same time, and the sender also asks the holders it used to
//     delete it.
//
// Not done: TON addresses, usernames and +888 numbers as recipients (a
// directory is needed); groups; re-sending a failed message.
package chat
