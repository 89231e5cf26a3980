// Package onchain is the Go side of tonmesh's market contracts
// (contracts/market: collection.fc and item.fc, FunC, compiled code
// embedded from there): assets and their canonical names, the collection's
// and items' state inits and addresses, the bodies of every message, the
// readers of their state through get-methods, the contracts' exit codes,
// and the decoder of bid orders relayed from the network.
//
// Model. One collection per network, owned by the registry address. Each
// asset (a username "@name" or an anonymous number "+888 XXXX XXXX") is one
// item contract at an address fixed by the collection and the asset's index,
// the SHA-256 of its canonical name, so anyone can find an asset's item and
// its owner without an index. The registry mints any asset (MintBody);
// anyone buys an unminted number at the collection's price (BuyNumberBody;
// the price goes to the registry, an already minted number is refunded).
// The owner auctions an item (StartAuctionBody) with the rules of Fragment's
// auctions, which the item contract enforces: minimum bid, a step of
// StepPercent and at least 1 TON (NextMinBid), anti-sniping extension,
// optional buy-now price; the outbid leader is refunded in the same
// transaction; after the end anyone settles: FeePercent to the registry,
// the rest to the seller, the item to the winner.
//
// Money. Messages carry a documented gas value (MintGas, BidGas, OpGas) on
// top of what they pay; what the contracts do not spend comes back to the
// sender (op excess). A bid carries BidValue(bid) = bid + BidGas. Every
// payment a contract makes of a price, bid, fee or proceeds is exact to the
// nanoTON (forwarding fees are paid on top, from the gas value).
//
// Owns: nothing stateful; it reads and builds. Package contracts/market
// owns the compiled code and its build record.
//
// Invariants:
//   - addresses computed here are the addresses the contracts compute
//     (the collection's get_nft_address_by_index agrees with ItemAddress;
//     tested on the emulated chain);
//   - Validate, NextMinBid and the exit codes mirror the contracts' rules
//     exactly; a change to one side without the other fails the tests;
//   - DecodeBidOrder never panics on bytes from the network and accepts
//     only an order that sends exactly one bounceable bid message with a
//     value above BidGas; it checks form, not the signature (Verify does).
package onchain
