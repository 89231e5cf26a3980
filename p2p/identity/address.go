package identity

import (
	"crypto/ed25519"
	"fmt"
	"strings"

	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/ton/wallet"
)

// WalletVersion names a TON wallet contract.
type WalletVersion string

const (
	// V5R1 is wallet v5r1 ("W5"), Tonkeeper's default for new wallets.
	V5R1 WalletVersion = "v5r1"
	// V4R2 is wallet v4r2, the previous default.
	V4R2 WalletVersion = "v4r2"
)

// ParseWalletVersion reads a wallet version name ("v5r1" or "v4r2", any case).
func ParseWalletVersion(s string) (WalletVersion, error) {
	switch v := WalletVersion(strings.ToLower(strings.TrimSpace(s))); v {
	case V5R1, V4R2:
		return v, nil
	default:
		return "", fmt.Errorf("identity: unknown wallet version %q: use %q or %q", s, V5R1, V4R2)
	}
}

// Network names the chain a node settles on.
type Network string

const (
	// Mainnet is the TON mainnet (global ID -239).
	Mainnet Network = "mainnet"
	// Testnet is the TON testnet (global ID -3).
	Testnet Network = "testnet"
	// Emu is the in-process emulated chain; it emulates testnet, so it uses
	// testnet's global ID and testnet-flagged addresses.
	Emu Network = "emu"
)

const (
	mainnetGlobalID int32 = -239
	testnetGlobalID int32 = -3

	// v4r2SubwalletID is the wallet_id of the first v4r2 wallet on workchain 0
	// (698983191 + workchain), as every TON wallet app uses it.
	v4r2SubwalletID uint32 = 698983191
)

// ParseNetwork reads a network name ("mainnet", "testnet" or "emu", any case).
func ParseNetwork(s string) (Network, error) {
	switch n := Network(strings.ToLower(strings.TrimSpace(s))); n {
	case Mainnet, Testnet, Emu:
		return n, nil
	default:
		return "", fmt.Errorf("identity: unknown network %q: use %q, %q or %q", s, Mainnet, Testnet, Emu)
	}
}

// GlobalID is the network's global ID as wallet v5r1 signs it into its
// wallet_id: -239 on mainnet, -3 on testnet and emu, 0 for an unknown network.
func (n Network) GlobalID() int32 {
	switch n {
	case Mainnet:
		return mainnetGlobalID
	case Testnet, Emu:
		return testnetGlobalID
	default:
		return 0
	}
}

// testnetOnly reports whether addresses on n carry the testnet flag.
func (n Network) testnetOnly() bool {
	return n == Testnet || n == Emu
}

// WalletAddress is the address of the user's wallet of version v on network
// n, as Tonkeeper shows it: workchain 0; v5r1 with wallet_id for
// n.GlobalID(), wallet version 0 and subwallet 0; v4r2 with wallet_id
// 698983191. The address is non-bounceable and carries the testnet flag on
// testnet and emu.
func (id *Identity) WalletAddress(v WalletVersion, n Network) (*address.Address, error) {
	if id == nil || len(id.WalletKey) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("identity: no wallet key: build the identity with FromMnemonic")
	}
	pub, ok := id.WalletKey.Public().(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("identity: wallet key has no Ed25519 public key")
	}
	return WalletAddressOf(pub, v, n)
}

// WalletAddressOf computes the wallet address of public key pub: what
// WalletAddress gives for the identity that holds the private key.
func WalletAddressOf(pub ed25519.PublicKey, v WalletVersion, n Network) (*address.Address, error) {
	if n.GlobalID() == 0 {
		return nil, fmt.Errorf("identity: unknown network %q: use %q, %q or %q", n, Mainnet, Testnet, Emu)
	}
	var (
		addr *address.Address
		err  error
	)
	switch v {
	case V5R1:
		// Tonkeeper's wallet_id: context {workchain 0, version 0, subwallet 0}
		// XOR the network global ID; tonutils-go builds it from these fields.
		cfg := wallet.ConfigV5R1Final{NetworkGlobalID: n.GlobalID(), Workchain: 0}
		addr, err = wallet.AddressFromPubKey(pub, cfg, 0)
	case V4R2:
		addr, err = wallet.AddressFromPubKey(pub, wallet.V4R2, v4r2SubwalletID)
	default:
		return nil, fmt.Errorf("identity: unknown wallet version %q: use %q or %q", v, V5R1, V4R2)
	}
	if err != nil {
		return nil, fmt.Errorf("identity: compute %s wallet address: %w", v, err)
	}
	addr.SetBounce(false)
	addr.SetTestnetOnly(n.testnetOnly())
	return addr, nil
}

// FormatFriendly renders a in the user-friendly form, URL-safe base64 and
// non-bounceable whatever a's bounce flag: "UQ..." on mainnet, "0Q..." for
// a testnet-flagged address. It returns "" for a nil address.
func FormatFriendly(a *address.Address) string {
	if a == nil {
		return ""
	}
	return a.Bounce(false).String()
}

// FormatRaw renders a as "<workchain>:<64 lowercase hex digits>", e.g.
// "0:8a86...28ae". It returns "" for a nil address.
func FormatRaw(a *address.Address) string {
	if a == nil {
		return ""
	}
	return a.StringRaw()
}
