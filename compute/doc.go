// Package compute is tonmesh's confidential AI inference network: workers
// run models and earn TON, proxies route requests to them and take a
// commission, and every node is a client with an OpenAI-compatible API.
//
// Offers. A worker gossips a signed offer on OffersTopic every
// Config.OfferInterval, valid for Config.OfferTTL: its models (name and
// weights hash), prices (nanoTON per million prompt and completion tokens),
// concurrency, current load, HPKE public key with its expiry, and
// attestation evidence (package compute/attest) bound to the claims {HPKE
// key, peer ID, key expiry, models}. The key rotates (and is re-attested)
// every Config.KeyLifetime; the previous key is kept until it expires. On
// Stop the worker gossips a signed withdrawal. Proxies announce themselves
// (commission) the same way. Every statement is signed by the peer key its
// body names (signed.go), so it verifies whoever relays it; the topic's
// validator checks signature, size, freshness and schema, and the gossip
// layer scores down senders of invalid ones. Every node keeps a table of
// live offers and proxies; expired entries age out.
//
// A request (client → proxy on InferProtocol, proxy → worker on
// WorkProtocol; messages in wire.go):
//  1. The client names model, price cap, max_tokens, request size and its
//     payment channel to the proxy (opened with Config.ChannelDeposit on
//     first use).
//  2. The proxy picks a worker serving the model with free capacity and a
//     client price (worker price plus commission) within the cap, the one
//     with the least running × average duration; it reserves the request's
//     maximum cost on the client's channel (deposit − billed − reserved)
//     and returns the worker's signed offer.
//  3. The client verifies the offer and its attestation (kind "none" is
//     refused unless Config.AllowUnattested; such answers are marked not
//     confidential; an offer verified once is remembered by the hash of its
//     signed bytes until it expires, verified.go), seals the request to the worker's key (compute/seal,
//     binding model, worker, request ID and key expiry) and sends the
//     envelope; a refused worker is replaced by the next. To save that
//     round trip, the client seals ahead to the worker this proxy picked
//     last for the model and sends that envelope with step 1; if the proxy
//     picks the same worker it forwards it at once and says so in the
//     offer (the client accepts that only for the worker and key it sealed
//     to), else the client seals again for the offered worker.
//  4. The proxy forwards the envelope to the worker and relays its sealed
//     records. A worker that fails before its first record is replaced
//     (the client seals again for the next); one that fails later ends the
//     request with an error, and nobody is paid.
//  5. The worker ends with a final record whose trailer holds its signed
//     usage receipt, which it also sends in clear beside the record so the
//     proxy can bill without reading content.
//  6. The client checks the receipt (the sealed and clear receipts
//     identical, the offer's prices, no more completion tokens than
//     max_tokens; the sealed record proves it is the worker's, so the
//     worker's signature, which the proxy verified to bill, is not
//     verified again) and hands the answer to its caller at once:
//     payment is off the answer's path. On the same stream, in the
//     background (at most maxSettling at a time; past that the caller
//     waits for its own payment), the proxy bills cost = ceil((prompt ×
//     price_prompt + completion × price_completion) / 1e6) at client
//     prices, and the client checks the bill against the receipt and pays
//     by voucher on its channel. Meanwhile the proxy pays the worker its
//     cost at worker prices (the difference is the commission) by voucher
//     on its own channel to the worker, and tells the worker, which
//     credits the payment only if the channel's vouchers cover it. Client,
//     proxy and worker journal the job (kind job_paid, key
//     "compute:job:<request ID>"; the entries made within payLinger of
//     each other are appended together, recordround.go). Bills made within payLinger (20 ms)
//     of each other share one synced write of the book (book.go), and
//     payments on a channel share one cumulative voucher: those made
//     within payLinger of each other are paid as one (payround.go;
//     ledger/service merges concurrent ones too), so load makes
//     durability cheaper per request, never weaker. A worker's records
//     leave through a group writer (groupwrite.go): records produced
//     while one is written go out together, with the final message.
//
// Cancelling a request anywhere cancels it everywhere: the client's HTTP
// request context resets its stream, the proxy's reader sees it and
// resets the worker stream, and the worker's reader cancels the backend.
// The client bounds a request by Config.FirstTokenTimeout, IdleTimeout and
// TotalTimeout; the proxy bounds a worker's first and next records the
// same way (a worker too slow to start is replaced).
//
// It owns: the store space "compute" (the channel this node pays each proxy
// or worker through, and the proxy's book: "proxy/ch/<channel>" holds what
// a client channel was billed in all and the client it is bound to, and
// "proxy/stats" the ProxyStatus counters and amounts), the topic
// OffersTopic, the protocols InferProtocol and WorkProtocol, and the routes
// /v1/models, /v1/chat/completions, /v1/completions and
// /api/v1/compute/{offers,worker,proxy}.
//
// Invariants:
//   - The proxy sees routing metadata and sizes only: requests and answers
//     cross it sealed end to end (WithTrafficTap lets tests check it).
//   - A client pays only for a complete answer whose receipt it verified;
//     a failed request costs it nothing, and the worker is then not paid.
//   - For every paid job the client's payment equals the proxy's bill, and
//     the proxy's payment to the worker plus its commission equals it.
//   - A bill reaches the client only after the channel's new billed total
//     is durable in the proxy's book (one synced batch with the counters),
//     so a restart, even a kill -9, never forgives a bill; what a client
//     owes keeps counting against its deposit, and a payment is accepted
//     only when the channel's vouchers reach the channel's billed total as
//     of that bill (everything billed before it included).
//   - Every message from the network goes through a strict, bounded
//     decoder (decodeMessage, decodeSigned and strict JSON heads) before use.
//
// A node may hold several roles: a client that is a proxy routes through
// itself, and a proxy that is a worker may pick itself, over an in-memory
// pipe instead of a stream (conn.go); nobody pays itself.
//
// Limits: reservations of requests in flight are in memory only (those
// requests end with a restart anyway); the received and paid-to-workers
// amounts and the refusal, retry and failure counters are written with
// the next bill or at Stop, so a kill -9 may lose the latest of those
// counts (never a bill, never a voucher); the book keeps a
// record per client channel ever billed, and the proxy holds the records
// of the channels used since start in memory; a client channel is bound
// to the first peer that names it (durably from its first bill); one
// channel per payee is used at a time (a new one is opened when its
// deposit is spent).
//
// Proxy failover. A client tries the proxy with the lowest commission
// first. A proxy that does not answer — it cannot be reached within
// Config.ProxyTimeout, its stream breaks, or it sends neither an offer
// (within ProxyTimeout) nor a first token (within FirstTokenTimeout) —
// is marked down for Config.ProxyDownFor and the request goes on through
// the next live proxy (at most maxProxies in all), as a new request with
// a new ID; one that answers that it has no free worker is passed over
// without a mark. A down proxy is tried only after the others until its
// mark expires or a request through it succeeds. This never charges
// twice: a proxy bills only an answer it relayed whole and the client
// checked, and once the first byte of an answer has arrived the request
// stays with its proxy (an answer cut off later fails, uncharged, as
// before). The stream to a proxy is opened before a channel to it, so no
// deposit goes to a proxy that cannot be reached. The worker of a dropped
// request is not paid by the dead proxy (its stream reset cancels the
// job); it is paid for the retried request by the proxy that relayed it.
package compute
