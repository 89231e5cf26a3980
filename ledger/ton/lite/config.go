package lite

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/xssnick/tonutils-go/liteclient"
)

// Config says which TON network to reach and where its liteservers are.
type Config struct {
	// GlobalConfig is a path or an http(s) URL of the network's global
	// config JSON (the public global.config.json of mainnet or testnet, or
	// one listing your own liteservers).
	GlobalConfig string
	// Network is Mainnet or Testnet.
	Network string
}

// Networks served by liteservers and their global IDs (config param 19).
const (
	Mainnet = "mainnet"
	Testnet = "testnet"

	MainnetGlobalID int32 = -239
	TestnetGlobalID int32 = -3
)

const (
	// maxGlobalConfigSize bounds the global config read from a file or
	// URL; the public ones are well under 100 KiB.
	maxGlobalConfigSize = 4 << 20
	// fetchTimeout bounds fetching a URL when ctx has no deadline.
	fetchTimeout = 30 * time.Second

	// Zero-state root hashes (base64, as global configs write them): they
	// tell a mainnet config from a testnet one before connecting.
	mainnetZeroState = "F6OpKZKqvqeFp6CQmFomXNMfMj2EnaUSOXN+Mh+wVWk="
	testnetZeroState = "gj+B8wb/AmlPk1z1AhVI484rhrUpgSr2oSFIh56VoSg="

	configHint = "download the global config of the network from its official site " +
		"(mainnet: https://ton-blockchain.github.io/global.config.json, " +
		"testnet: https://ton-blockchain.github.io/testnet-global.config.json) " +
		"and set ton.global_config to its path or URL"
)

// networkGlobalID returns the global ID of a network lite serves.
func networkGlobalID(network string) (int32, error) {
	switch network {
	case Mainnet:
		return MainnetGlobalID, nil
	case Testnet:
		return TestnetGlobalID, nil
	case "emu":
		return 0, errors.New(`ton.network: "emu" is the in-process emulated chain, not reached through liteservers; set ton.network to mainnet or testnet to use liteservers`)
	default:
		return 0, fmt.Errorf("ton.network: %q is not a TON network (allowed: mainnet or testnet)", network)
	}
}

// networkName names the network of a global ID, for error messages.
func networkName(id int32) string {
	switch id {
	case MainnetGlobalID:
		return Mainnet
	case TestnetGlobalID:
		return Testnet
	default:
		return "an unknown network"
	}
}

// checkGlobalID compares the global ID the liteservers of src serve with
// the configured network's.
func checkGlobalID(network string, got int32, src string) error {
	want, err := networkGlobalID(network)
	if err != nil {
		return err
	}
	if got == want {
		return nil
	}
	return fmt.Errorf("ton.network is %s (global id %d) but the liteservers of %s serve global id %d (%s): "+
		"set ton.network to the network you mean, and ton.global_config to that network's global config",
		network, want, src, got, networkName(got))
}

// checkZeroState refuses a global config that is recognisably the other
// network's. A config of an unknown zero state passes: Dial's global ID
// check decides.
func checkZeroState(network string, gc *liteclient.GlobalConfig, src string) error {
	zs := base64.StdEncoding.EncodeToString(gc.Validator.ZeroState.RootHash)
	var other string
	switch {
	case network == Mainnet && zs == testnetZeroState:
		other = Testnet
	case network == Testnet && zs == mainnetZeroState:
		other = Mainnet
	default:
		return nil
	}
	return fmt.Errorf("ton.global_config: %s is the %s global config but ton.network is %s: "+
		"set ton.network to %s, or set ton.global_config to the %s global config (%s)",
		src, other, network, other, network, configHint)
}

// loadGlobalConfig reads and validates the global config at src, a path or
// an http(s) URL.
func loadGlobalConfig(ctx context.Context, src string) (*liteclient.GlobalConfig, error) {
	if strings.TrimSpace(src) == "" {
		return nil, fmt.Errorf("ton.global_config is empty: %s", configHint)
	}
	var (
		raw []byte
		err error
	)
	lower := strings.ToLower(src)
	switch {
	case strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://"):
		raw, err = fetchConfig(ctx, src)
	case strings.Contains(src, "://"):
		return nil, fmt.Errorf("ton.global_config: %s: only http:// and https:// URLs or file paths are supported; %s", src, configHint)
	default:
		raw, err = readConfigFile(src)
	}
	if err != nil {
		return nil, fmt.Errorf("ton.global_config: %w; %s", err, configHint)
	}
	gc, err := parseGlobalConfig(raw)
	if err != nil {
		return nil, fmt.Errorf("ton.global_config: %s: %w; %s", src, err, configHint)
	}
	return gc, nil
}

func readConfigFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxGlobalConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	if len(raw) > maxGlobalConfigSize {
		return nil, fmt.Errorf("%s is larger than %d bytes: not a global config", path, maxGlobalConfigSize)
	}
	return raw, nil
}

func fetchConfig(ctx context.Context, url string) ([]byte, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, fetchTimeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("bad URL %s: %w", url, err)
	}
	req.Header.Set("Accept", "application/json")
	// A transport of its own, closed after the fetch: no idle connection
	// (and its goroutines) outlives it.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot fetch %s: %w (check the URL and this machine's network, or download the file and set its path)", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("cannot fetch %s: HTTP %s", url, resp.Status)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxGlobalConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("cannot fetch %s: %w", url, err)
	}
	if len(raw) > maxGlobalConfigSize {
		return nil, fmt.Errorf("%s sent more than %d bytes: not a global config", url, maxGlobalConfigSize)
	}
	return raw, nil
}

// globalConfigJSON is the part of a global config lite uses. The DHT
// section is not read: liteservers are listed directly.
type globalConfigJSON struct {
	Liteservers []liteclient.LiteserverConfig `json:"liteservers"`
	Validator   *liteclient.ValidatorConfig   `json:"validator"`
}

// parseGlobalConfig decodes raw, bytes from a file or the network, and
// checks what Dial relies on: at least one liteserver with a valid port
// and Ed25519 key, and a masterchain init block to start proofs from.
func parseGlobalConfig(raw []byte) (*liteclient.GlobalConfig, error) {
	var j globalConfigJSON
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("not a global config JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("not a global config JSON: data after the top-level object")
	}
	if len(j.Liteservers) == 0 {
		return nil, errors.New(`lists no liteservers (a global config has them under "liteservers")`)
	}
	for i, ls := range j.Liteservers {
		if ls.Port <= 0 || ls.Port > 65535 {
			return nil, fmt.Errorf("liteserver %d: port %d is not a TCP port", i, ls.Port)
		}
		key, err := base64.StdEncoding.DecodeString(ls.ID.Key)
		if err != nil || len(key) != 32 {
			return nil, fmt.Errorf("liteserver %d: id.key %q is not a base64 Ed25519 public key", i, ls.ID.Key)
		}
	}
	if j.Validator == nil {
		return nil, errors.New(`has no "validator" section: proof checking starts from its init_block`)
	}
	ib := j.Validator.InitBlock
	if ib.Workchain != -1 || len(ib.RootHash) != 32 || len(ib.FileHash) != 32 {
		return nil, errors.New(`has no valid validator.init_block (a masterchain block with 32-byte root_hash and file_hash): proof checking starts from it`)
	}
	return &liteclient.GlobalConfig{Liteservers: j.Liteservers, Validator: *j.Validator}, nil
}
