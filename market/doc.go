// Package market is tonmesh's Fragment: usernames (@name) and anonymous
// numbers (+888 XXXX XXXX) as item contracts of one collection on TON
// (market/onchain), sold in open auctions whose bids every node sees, random
// numbers at a fixed price, and login codes delivered to an asset's owner.
//
// Gossip. Topic "tonmesh/market/1" carries three messages (wire.go):
// listings (an auction started: asset, item, seller, terms, end), signed by
// the publishing peer's key inside the message so that they can be passed
// on by sync; bids, which carry the bidder's signed wallet order sending
// BidValue to the item, so that any node can relay them to the chain (a
// mempool for bids); and notices ("re-read this item"). The validator
// refuses, and so scores the sender down for: malformed messages; listings
// whose signature, signer, item or chain state (a running auction by the
// listed seller) does not hold; bid orders that do not decode, are signed by
// another key than the claimed wallet's, target another item, have expired,
// repeat an accepted order (same hash) or an older seqno of the same wallet,
// target an asset without a running auction, come after its end, or bid
// below the minimum the chain last showed. A bid at or above that minimum
// but below a newer gossip bid is an honest race: it spreads (the contract
// decides) without leading this node's view. A node that accepts a bid
// relays its order to the chain (an executed order is refused by the
// wallet, which is fine); the bidder's node also submits it. A node checks
// a bid's wallet signature once: orders that verified are remembered by
// the hash of what was checked (verified.go, bounded); expiry, replay and
// the auction's state are checked at every use.
//
// View. Per auction, a node keeps the last chain read (onchain.ReadItem)
// and the accepted gossip bids the chain does not show yet; the effective
// leader, bid, minimum and end are the chain's with those bids on top
// (view.go). The chain wins: a read drops gossip bids the chain shows or
// outbid, expired ones, and ones whose wallet seqno moved past them without
// the item seeing them. Every SettleInterval a node re-reads every open
// auction, and settles the ended ones: the seller's node at once, any node
// two intervals later. A finished run is journaled (auction_settled, key
// "auction:<item>:<end>"; the winner's entry has ":won" appended) on the
// seller's node (the proceeds, net of the fee) and the winner's node (minus
// the price); the price and fee come from the item's settling transaction.
// A number bought at the fixed price is journaled as a sale, a transfer as
// a transfer.
//
// Catch-up. At start (and until a peer answered) a node asks up to three
// peers over /tonmesh/market/sync/1.0.0 for their listings and known items,
// checks every listing as if gossiped and reads every item from the chain.
// Its own state survives restarts in the store; the first chain pass after
// a restart finds the runs that ended meanwhile.
//
// Login codes (codes.go) travel over /tonmesh/market/code/1.0.0 to the node
// the wallet directory names for the chain owner's address, and to nowhere
// else; the Messenger, when set, notifies the same peer through chat. The
// requesting node keeps only SHA-256(id, code); a code verifies once,
// before it expires, within five guesses. The owner's node keeps a code
// only for an asset its wallet owns on chain.
//
// It owns the topic, both protocols and the store space "market" (store.go).
//
// Invariants:
//   - ownership and auction state are what the chain says; gossip only
//     runs ahead of it, and any chain read overrides it;
//   - this node never signs a bid below the minimum its view shows, and its
//     own validator checks its bids before they leave;
//   - a login code is sent only to the peer the directory maps to the
//     owner's address on chain, and its plain value is never stored by the
//     node that issued it.
//
// Not done: pruning of finished auction views; a shared index of all
// minted items (a node knows the items it saw in listings, notices, sync
// and its own operations).
package market
