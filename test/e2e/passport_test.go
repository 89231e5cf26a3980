package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tonmesh/tonmesh/internal/binharness"
	"github.com/tonmesh/tonmesh/testnet"
)

// TestPassportRestoreCLI: a user's documents survive the loss of the user's
// machine. The vault is written from one home; that home is stopped and
// thrown away; a new home made from the same 24 words (init
// --mnemonic-file) restores it from the network, with identical bytes.
func TestPassportRestoreCLI(t *testing.T) {
	dir := t.TempDir()
	// Shards 2 of 3, so that the three holders here suffice.
	vaultEnv := []string{"TONMESH_VAULT_SHARDS_K=2", "TONMESH_VAULT_SHARDS_N=3"}
	net := &cliNet{t: t, dir: dir}
	start := net.start
	for i := range 4 { // the chain's host and three holders
		start("holder" + strconv.Itoa(i+1))
	}
	owner, ownerDaemon := start("owner", vaultEnv...)

	scan := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte("restore-me "), 20000)...)
	scanPath := filepath.Join(dir, "card.jpg")
	if err := os.WriteFile(scanPath, scan, 0o600); err != nil {
		t.Fatal(err)
	}
	waitCLI(t, "three holders for the owner's shards", func() bool {
		return binharness.Run(t, nil, "--home", owner.Home, "passport", "add", "identity_card",
			"--field", "document_no=IC-77", "--file", "front_side="+scanPath, "--file", "reverse_side="+scanPath).ExitCode == 0
	})

	// The machine is lost; the words are not.
	words, err := os.ReadFile(filepath.Join(owner.Home, "keystore", "mnemonic"))
	if err != nil {
		t.Fatal(err)
	}
	ownerDaemon.Stop()
	wordsFile := filepath.Join(dir, "words.txt")
	if err := os.WriteFile(wordsFile, words, 0o600); err != nil {
		t.Fatal(err)
	}
	newHome := filepath.Join(dir, "owner-again")
	if res := binharness.Run(t, nil, "init", "--home", newHome, "--profile", "testnet", "--mnemonic-file", wordsFile); res.ExitCode != 0 {
		t.Fatalf("init from the words: %s", res.Stderr)
	}
	if err := os.RemoveAll(owner.Home); err != nil {
		t.Fatal(err)
	}
	again, _ := start("owner-again", vaultEnv...)
	if again.PeerID != owner.PeerID {
		t.Fatalf("the same words gave peer %s, was %s", again.PeerID, owner.PeerID)
	}
	waitCLI(t, "the manifest to be found in the DHT", func() bool {
		return binharness.Run(t, nil, "--home", again.Home, "passport", "restore", "--json").ExitCode == 0
	})
	var list []struct {
		Type string `json:"type"`
	}
	cli(t, again, &list, "passport", "list", "--json")
	if len(list) != 1 || list[0].Type != "identity_card" {
		t.Fatalf("restored vault lists %+v, want the identity_card", list)
	}
	var card struct {
		Data      map[string]string `json:"data"`
		FrontSide struct {
			Bytes []byte `json:"bytes"`
		} `json:"front_side"`
		ReverseSide struct {
			Bytes []byte `json:"bytes"`
		} `json:"reverse_side"`
	}
	cli(t, again, &card, "passport", "show", "identity_card", "--json")
	if card.Data["document_no"] != "IC-77" || !bytes.Equal(card.FrontSide.Bytes, scan) || !bytes.Equal(card.ReverseSide.Bytes, scan) {
		t.Fatalf("restored identity_card: %v, scans of %d and %d bytes (want %d, identical)",
			card.Data, len(card.FrontSide.Bytes), len(card.ReverseSide.Bytes), len(scan))
	}
}

// cliNet starts real daemons in homes under dir; the first hosts the
// emulated chain and is every later one's bootstrap peer.
type cliNet struct {
	t    *testing.T
	dir  string
	boot string
}

func (c *cliNet) start(name string, env ...string) (testnet.NodeInfo, *binharness.Daemon) {
	t := c.t
	t.Helper()
	home := filepath.Join(c.dir, name)
	if _, err := os.Stat(home); err != nil {
		if res := binharness.Run(t, nil, "init", "--home", home, "--profile", "testnet"); res.ExitCode != 0 {
			t.Fatalf("init %s: %s", name, res.Stderr)
		}
	}
	env = append(env, "TONMESH_P2P_LISTEN=/ip4/127.0.0.1/tcp/0")
	if c.boot == "" {
		env = append(env, "TONMESH_TON_EMU_HOST=true")
	} else {
		env = append(env, "TONMESH_P2P_BOOTSTRAP="+c.boot)
	}
	n := testnet.NodeInfo{Name: name, Home: home}
	d := binharness.StartDaemon(t, home, env...)
	var id struct {
		PeerID string   `json:"peer_id"`
		Addrs  []string `json:"addrs"`
	}
	cli(t, n, &id, "id", "--json")
	n.PeerID = id.PeerID
	if c.boot == "" {
		c.boot = id.Addrs[0]
	}
	return n, d
}

// TestPassportClaimsCLI: proving "over 18" without the birth date, across
// four real daemons (the chain's host, a verifier, a service, the user).
// The verifier sees the user's personal details once and attests derived
// claims; the service asks for age_over_18 only and learns exactly that;
// no byte of the birth date reaches its disk. A claim nobody attested is
// refused at approval with what to do.
func TestPassportClaimsCLI(t *testing.T) {
	dir := t.TempDir()
	net := &cliNet{t: t, dir: dir}
	net.start("host")
	verifier, _ := net.start("verifier")
	service, _ := net.start("service")
	user, _ := net.start("user", "TONMESH_VAULT_SHARDS_K=2", "TONMESH_VAULT_SHARDS_N=3")
	const born = "10.12.1815"
	waitCLI(t, "three holders for the user's shards", func() bool {
		return binharness.Run(t, nil, "--home", user.Home, "passport", "add", "personal_details",
			"--field", "first_name=Ada", "--field", "last_name=Lovelace", "--field", "birth_date="+born,
			"--field", "gender=female", "--field", "country_code=GB", "--field", "residence_country_code=GB").ExitCode == 0
	})
	for _, n := range []testnet.NodeInfo{verifier, service} {
		if err := os.MkdirAll(filepath.Join(dir, n.Name+"-keys"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	vPub, vPriv := writeRSAKeys(t, filepath.Join(dir, "verifier-keys"))
	sPub, sPriv := writeRSAKeys(t, filepath.Join(dir, "service-keys"))

	type pendingJSON struct {
		ID   string `json:"id"`
		Asks []struct {
			Type       string          `json:"type"`
			Fields     []string        `json:"fields"`
			Claims     []string        `json:"claims"`
			Unattested []string        `json:"unattested"`
			Disclose   map[string]bool `json:"disclose"`
		} `json:"asks"`
	}
	ask := func(from testnet.NodeInfo, pub, scope string) pendingJSON {
		t.Helper()
		var req struct {
			ID        string `json:"id"`
			Delivered bool   `json:"delivered"`
		}
		cli(t, from, &req, "passport", "request", "--scope", scope, "--public-key", pub, "--to", user.PeerID, "--json")
		if !req.Delivered {
			t.Fatalf("request from %s not delivered: %+v", from.Name, req)
		}
		var pending []pendingJSON
		cli(t, user, &pending, "passport", "requests", "--json")
		for _, p := range pending {
			if p.ID == req.ID {
				return p
			}
		}
		t.Fatalf("request %s is not pending at the user: %+v", req.ID, pending)
		return pendingJSON{}
	}

	// The verifier checks the personal details and attests every claim.
	p := ask(verifier, vPub, `["personal_details"]`)
	cli(t, user, nil, "passport", "approve", p.ID)
	var att struct {
		Type   string          `json:"type"`
		Claims map[string]bool `json:"claims"`
	}
	cli(t, verifier, &att, "passport", "attest", p.ID, "personal_details", "--claims", "all", "--private-key", vPriv, "--json")
	if !att.Claims["age_over_18"] || !att.Claims["age_over_21"] || !att.Claims["resident_of:GB"] {
		t.Fatalf("the verifier signed %+v", att)
	}
	var held []struct {
		Verifier string          `json:"verifier"`
		Claims   map[string]bool `json:"claims"`
	}
	cli(t, user, &held, "passport", "attestations", "--json")
	if len(held) != 1 || held[0].Verifier != verifier.PeerID || !held[0].Claims["age_over_18"] {
		t.Fatalf("the user holds %+v", held)
	}
	if out := cli(t, user, nil, "passport", "attestations"); !strings.Contains(out, "age_over_18=true") {
		t.Fatalf("passport attestations shows:\n%s", out)
	}

	// The service asks for age_over_18 only; the consent shows just that.
	p = ask(service, sPub, `{"v":1,"data":[{"type":"personal_details","claims":["age_over_18"]}]}`)
	if len(p.Asks) != 1 || len(p.Asks[0].Fields) != 0 || len(p.Asks[0].Claims) != 1 || !p.Asks[0].Disclose["age_over_18"] || len(p.Asks[0].Unattested) != 0 {
		t.Fatalf("the user is asked %+v", p.Asks)
	}
	if out := cli(t, user, nil, "passport", "requests"); !strings.Contains(out, "only the claims age_over_18 (no data fields, no files)") ||
		!strings.Contains(out, "age_over_18=true of personal_details, as attested by "+verifier.PeerID) {
		t.Fatalf("passport requests shows:\n%s", out)
	}
	if out := cli(t, user, nil, "passport", "approve", p.ID); !strings.Contains(out, "proved claims: age_over_18=true") {
		t.Fatalf("approve says:\n%s", out)
	}
	var got []struct {
		Elements     []any           `json:"elements"`
		Claims       map[string]bool `json:"claims"`
		ClaimSources []struct {
			Verifier string `json:"verifier"`
		} `json:"claim_sources"`
		Error string `json:"error"`
	}
	cli(t, service, &got, "passport", "received", "--private-key", sPriv, "--json")
	if len(got) != 1 || got[0].Error != "" || len(got[0].Elements) != 0 || len(got[0].Claims) != 1 || !got[0].Claims["age_over_18"] ||
		len(got[0].ClaimSources) != 1 || got[0].ClaimSources[0].Verifier != verifier.PeerID {
		t.Fatalf("the service received %+v, want only age_over_18 = true, attested by the verifier", got)
	}
	// Nothing of the birth date on the service's disk (its store, its logs).
	err := filepath.Walk(service.Home, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(born)) || bytes.Contains(b, []byte("1815")) {
			t.Errorf("%s holds the birth date", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// A claim no verifier attested: refused at approval, saying what to do.
	p = ask(service, sPub, `{"v":1,"data":[{"type":"personal_details","claims":["age_over_65"]}]}`)
	if len(p.Asks[0].Unattested) != 1 || p.Asks[0].Unattested[0] != "age_over_65" {
		t.Fatalf("the user is asked %+v, want age_over_65 shown as not attested", p.Asks)
	}
	res := binharness.Run(t, nil, "--home", user.Home, "passport", "approve", p.ID)
	requireCleanFailure(t, "approve an unattested claim", res, "age_over_65", "tonmesh passport attest ID personal_details --claims age_over_65")
}
