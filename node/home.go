package node

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/tonmesh/tonmesh/config"
	"github.com/tonmesh/tonmesh/internal/fsutil"
	"github.com/tonmesh/tonmesh/p2p/identity"
)

// Home is a node's directory. Its layout:
//
//	config.toml        the node's configuration (written by Init, edited by the operator)
//	keystore/mnemonic  the 24 words everything is derived from (0600, in a 0700 dir)
//	api.token          bearer token of the HTTP API (0600)
//	api.url            where the running daemon's API listens (written at start, removed at stop)
//	store/             the Pebble database
type Home string

// DefaultHome is $TONMESH_HOME, else ~/.tonmesh.
func DefaultHome() (Home, error) {
	if h := os.Getenv("TONMESH_HOME"); h != "" {
		return Home(h), nil
	}
	dir, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no home directory to put ~/.tonmesh in (set TONMESH_HOME or pass --home): %w", err)
	}
	return Home(filepath.Join(dir, ".tonmesh")), nil
}

func (h Home) path(name string) string { return filepath.Join(string(h), name) }

// ConfigPath is the node's config file.
func (h Home) ConfigPath() string { return h.path(config.FileName) }

// MnemonicPath is the node's secret words.
func (h Home) MnemonicPath() string { return filepath.Join(string(h), "keystore", "mnemonic") }

// TokenPath is the API bearer token.
func (h Home) TokenPath() string { return h.path("api.token") }

// APIURLPath holds the URL of the running daemon's API.
func (h Home) APIURLPath() string { return h.path("api.url") }

// StoreDir is the Pebble database.
func (h Home) StoreDir() string { return h.path("store") }

// ErrNoHome says a home has not been initialised.
var ErrNoHome = errors.New("no tonmesh home")

// Check returns an error naming the fix when h is not an initialised home.
func (h Home) Check() error {
	if _, err := os.Stat(h.ConfigPath()); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w at %s: run `tonmesh init --home %s` first", ErrNoHome, h, h)
	} else if err != nil {
		return fmt.Errorf("read home %s: %w", h, err)
	}
	return nil
}

// InitOptions say how Init creates a home.
type InitOptions struct {
	Profile  string   // config profile; config.ProfileServer when empty
	Mnemonic []string // restore this identity; a new one is generated when nil
	Name     string   // node.name in the config; default "tonmesh"
	// Edit, when set, adjusts the profile's defaults before the config is written.
	Edit func(*config.Config)
}

// InitResult is what Init created.
type InitResult struct {
	Config     *config.Config
	Identity   *identity.Identity
	NewWords   bool // the mnemonic was generated now: show it to the user once
	WalletAddr string
	RawAddr    string
}

// Init creates a home: config, identity and API token. It refuses to touch a
// directory that already holds a config or a keystore.
func Init(h Home, o InitOptions) (*InitResult, error) {
	for _, p := range []string{h.ConfigPath(), h.MnemonicPath()} {
		if _, err := os.Stat(p); err == nil {
			return nil, fmt.Errorf("%s already exists: %s is an initialised home; use another --home, or remove it if you really mean to start over", p, h)
		}
	}
	profile := o.Profile
	if profile == "" {
		profile = config.ProfileServer
	}
	cfg, err := config.Default(profile)
	if err != nil {
		return nil, err
	}
	if o.Name != "" {
		cfg.Node.Name = o.Name
	}
	if o.Edit != nil {
		o.Edit(cfg)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	words, fresh := o.Mnemonic, false
	if words == nil {
		if words, err = identity.NewMnemonic(); err != nil {
			return nil, fmt.Errorf("generate mnemonic: %w", err)
		}
		fresh = true
	}
	id, err := identity.FromMnemonic(words)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(string(h), 0o700); err != nil {
		return nil, fmt.Errorf("create home %s: %w", h, err)
	}
	if err := identity.SaveMnemonic(h.MnemonicPath(), words); err != nil {
		return nil, err
	}
	if err := writeToken(h.TokenPath()); err != nil {
		return nil, err
	}
	if err := cfg.Write(h.ConfigPath()); err != nil {
		return nil, err
	}
	friendly, raw, err := WalletAddress(id, cfg)
	if err != nil {
		return nil, err
	}
	return &InitResult{Config: cfg, Identity: id, NewWords: fresh, WalletAddr: friendly, RawAddr: raw}, nil
}

// LoadConfig reads the home's config (with TONMESH_* overrides applied).
func (h Home) LoadConfig() (*config.Config, error) {
	if err := h.Check(); err != nil {
		return nil, err
	}
	return config.Load(h.ConfigPath())
}

// LoadIdentity reads the home's mnemonic and derives the node's keys.
func (h Home) LoadIdentity() (*identity.Identity, error) {
	words, err := identity.LoadMnemonic(h.MnemonicPath())
	if err != nil {
		return nil, err
	}
	return identity.FromMnemonic(words)
}

// Token reads the API bearer token.
func (h Home) Token() (string, error) {
	b, err := os.ReadFile(h.TokenPath())
	if err != nil {
		return "", fmt.Errorf("read API token: %w (is %s a tonmesh home? run `tonmesh init`)", err, h)
	}
	return strings.TrimSpace(string(b)), nil
}

// APIURL reads where the running daemon listens.
func (h Home) APIURL() (string, error) {
	b, err := os.ReadFile(h.APIURLPath())
	if errors.Is(err, fs.ErrNotExist) {
		if cerr := h.Check(); cerr != nil {
			return "", cerr
		}
		return "", fmt.Errorf("no daemon is running for %s (start one with `tonmesh daemon --home %s`)", h, h)
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", h.APIURLPath(), err)
	}
	return strings.TrimSpace(string(b)), nil
}

func writeToken(path string) error {
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return fmt.Errorf("generate API token: %w", err)
	}
	return fsutil.WriteFileAtomic(path, []byte(hex.EncodeToString(buf)+"\n"), 0o600)
}

// WalletAddress derives the wallet address cfg selects (version, network)
// from id, in friendly and raw form.
func WalletAddress(id *identity.Identity, cfg *config.Config) (friendly, raw string, err error) {
	v, err := identity.ParseWalletVersion(cfg.TON.WalletVersion)
	if err != nil {
		return "", "", err
	}
	n, err := identity.ParseNetwork(cfg.TON.Network)
	if err != nil {
		return "", "", err
	}
	a, err := id.WalletAddress(v, n)
	if err != nil {
		return "", "", fmt.Errorf("derive wallet address: %w", err)
	}
	return identity.FormatFriendly(a), identity.FormatRaw(a), nil
}
