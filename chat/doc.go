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
// /tonmesh/chat/msg/1.0.0 when the recipient answers (one envelope frame,
// one response frame; a sender reuses the stream for its next messages to
// that peer, msgstreams.go), else to the
// Config.MailboxReplicas peers closest (Kad-DHT) to the recipient's mailbox
// key SHA-256("tonmesh/chat/mailbox" || peer ID) over
// /tonmesh/chat/mailbox/1.0.0 (mailboxwire.go), sealed (sealed.go): the
// signed envelope encrypted to an X25519 key derived from the recipient's
// peer key, padded to a size class, filed under that mailbox key with an
// expiry, paid with a proof of work per holder (sealedpow.go) instead of a
// sender's signature. The recipient fetches its mailbox at start and every
// Config.MailboxPoll, opens each sealed item, verifies and stores the
// envelope inside as if it came directly, then has the holders delete it
// by a request it signs; the sender deletes its item (its timer ran out)
// by a secret only it can derive, whose hash the deposit carried.
//
// Linked devices (devicelist.go, devicelink.go). An identity is the peer ID
// of its primary node; other nodes join it as devices, each with its own
// peer key, prekeys and sessions. The primary signs the list of its devices
// as a record in namespace "chat-devices" under its peer ID, the record's
// Seq being the list's version (a join or a removal takes the next one),
// and republishes it every Config.PrekeyRefresh; a device joins with a
// one-time link the primary printed, proving its secret over
// /tonmesh/chat/device/1.0.0. A message to an identity with devices is
// sealed once per device, each in the pairwise session with that device,
// and a copy goes to the sender's own other devices (devicesend.go): the
// message is durable before any copy is sealed, and each device's session
// before its copy leaves.
// Linked devices, and copies to one's own devices, carry content version 2
// (devicecontent.go): the sender's identity and the version of its list;
// a primary writing to others keeps version 1. A sender uses the
// recipient's list it knows, fetched the first time and refreshed in the
// background every Config.DeviceRefresh; a removed device is told, and
// chats as itself again.
//
// It owns: the store spaces "chat" (the user's conversations, sessions,
// prekeys, device lists; store.go, devices.go) and "chat-mailbox" (items
// held for others; mailbox.go), the record namespaces "chat-prekey" and
// "chat-devices", and the three protocols.
//
// Invariants:
//   - A session's new state is durable before its message is reported sent
//     (sending) or is acknowledged (receiving): session and message are
//     written in one batch, so an acknowledged message survives a crash.
//     A direct message may leave while its batch is syncing only when a
//     durable earlier state reserved its ratchet number
//     (ratchet.EncryptAhead); sessions read back after a restart are
//     Resumed past what they reserved (store.go), so a message key is never
//     reused after a crash. A crash in that window loses the sender's copy
//     of a message the recipient may hold; Send had not returned, so the
//     user never saw it delivered. Mailbox deposits wait for the fsync.
//     The batch is applied under
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
//   - Mailbox holders learn the recipient of an item (its mailbox key), its
//     size class and expiry, not its sender: a sealed item names none, and
//     a holder neither stores nor logs the peer a deposit came from (its
//     connection still shows it: a relay hop would hide that). They never
//     hold plaintext
//     or keys. They take a sealed item only with a fresh, unused stamp of
//     Holder.PowBits work bound to them and to the item (used stamps are
//     stored until they are stale), within per-mailbox quotas (items and
//     bytes), the holder's space and a maximum age; they return a mailbox
//     only to a fetch signed by its owner, and delete an item only on a
//     request signed by the owner or with the item's delete secret. Plain
//     items (signed envelopes, from nodes that do not seal yet, and those
//     stored before) are still taken from their sender only, within
//     per-sender quotas too, unless Holder.RefusePlain, and still served.
//   - A message from a linked device is stored under its identity only when
//     the identity's signed list, of at least the version the message
//     claims, names the sending device (else the list is fetched once from
//     the DHT, outside every lock, and the message refused if it still does
//     not); a copy of one's own outgoing message only from a device of
//     one's own list; a list of one's own identity only signed by its primary
//     (pushed by it, or pulled from the DHT when a push was missed), and
//     only a newer version. Only the primary signs and changes its list; changes
//     are serialized and durable before they are published or pushed.
//   - A message with a timer is deleted from this node's store when it
//     expires (Config.SweepInterval), by the recipient likewise, by holders
//     at the same time, and the sender also asks the holders it used to
//     delete it.
//
// Not done: groups across linked devices (a group member is one node); a
// new device gets only recent history (devicehistory.go), no group
// history; failed copies to devices are not re-sent.
package chat
