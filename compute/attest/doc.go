// Package attest produces and checks the hardware evidence that a compute
// worker's HPKE key (package compute/seal) lives inside a confidential VM.
//
// Binding. A worker's Claims (its HPKE public key, its peer ID, the claims'
// expiry and the weights hashes of the models it serves) are encoded
// canonically and hashed: ReportData = SHA-512("tonmesh/compute/attest/v1"
// ‖ canonical claims). The 64 bytes go into the report data field of a TDX
// quote or an SEV-SNP attestation report, so the evidence vouches for
// exactly these claims and no others.
//
// Kinds:
//   - "tdx": a raw TDX quote (v4), produced through configfs-tsm and checked
//     with go-tdx-guest against Intel's SGX root CA (pinned in this package,
//     intel_sgx_root_ca.pem).
//   - "sev-snp": a raw SEV-SNP attestation report followed by its
//     certificate table (VCEK or VLEK, ASK, ARK), produced through
//     configfs-tsm and checked with go-sev-guest against AMD's roots
//     embedded in that library.
//   - "none": no evidence at all, for development networks. It proves
//     nothing and is NOT confidential: Verify refuses it unless the policy
//     explicitly allows unattested workers, and then says so in the result.
//
// Verification is offline by default: the signature chain up to the
// vendor's root and the report data binding are checked, but TCB status
// (TDX collateral) and revocation lists are only fetched when
// Policy.Online is set. A debug-enabled TEE (its memory readable by the
// host) is refused unless Policy.AllowDebug is set, and a launch
// measurement can be pinned with Policy.Measurements.
//
// This package owns no state, store space or protocol.
//
// Invariants:
//   - Verify returns a Result only when every check passed; Confidential is
//     true only for verified tdx or sev-snp evidence.
//   - ReportData is a pure function of the claims; the order of
//     Claims.Models does not matter.
//   - UnmarshalEvidence is strict and bounded (MaxQuoteSize).
package attest
