// Package passport is tonmesh's model of Telegram Passport, pure and
// without network: the thirteen element types with their data fields and
// files (types.go), validation with errors that name the field
// (element.go), the compact binary encoding the vault encrypts and stores
// (codec.go), scopes in the specification's v1 form with one_of, selfie,
// translation and native_names (scope.go), authorization requests and
// their tonmesh://passport links (request.go), the service-side format of
// the Bot API — PassportData, EncryptedPassportElement, EncryptedCredentials
// — built exactly as the specification prescribes (telegram.go, crypto.go)
// and decrypted as a service does (decrypt.go), PassportElementError
// (errors.go), verifier attestations (attest.go), and derived claims such
// as age_over_18 with their SD-JWT-style selective disclosure (claims.go,
// disclose.go).
//
// It owns no storage, protocol or key space.
//
// Invariants:
//   - Every secret is 32 bytes with a byte sum of 239 modulo 255; every
//     encrypted blob is padded with 32–255 bytes (the first holding the
//     length) to a multiple of 16, hashed with SHA-256, and encrypted with
//     AES-256-CBC under the key and IV from SHA-512(secret ‖ hash); the
//     credentials secret is encrypted with RSA-OAEP (SHA-1, Telegram's
//     parameters). A service's unchanged Telegram Passport decryption reads
//     the result.
//   - A share holds only what its scope asks: SelectElements picks, per
//     scope entry, the first option the owner has and projects it (no
//     selfie, translation or native names unless asked); BuildShare
//     encrypts exactly the elements it is given.
//   - Decoders (UnmarshalElement, ParseScope, ParseLink, DecodeRequest,
//     DecryptPassportData, attestations) bound every length before
//     allocating, refuse unknown fields, and never panic. UnmarshalElement
//     accepts only Marshal's canonical bytes. Decoded values do not alias
//     their input, except the files of UnmarshalElementIn (its caller
//     hands the input over).
//   - An attestation is signed by the verifier's libp2p peer key over a
//     domain-separated encoding; Verify checks it against the verifier's
//     peer ID and validity window, and Covers checks that an element's data
//     digest and every file digest are among those attested.
//   - Derived claims are signed only as salted digests (128-bit salts,
//     sorted, padded with decoys), under a second signature of the same
//     verifier key that covers no element digest; a ClaimProof carries
//     that claim part, the disclosures of the asked claims only, and the
//     subject's key binding to one service, one nonce and exactly those
//     disclosures. ClaimProof.Verify refuses a disclosure whose digest the
//     verifier did not sign, and a proof bound to another service, nonce
//     or set of disclosures. A scope entry with claims asks for no data
//     field or file of its element.
package passport
