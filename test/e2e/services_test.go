package e2e

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/internal/binharness"
	"github.com/tonmesh/tonmesh/testnet"
)

// TestTestnetServices: on a fresh 5-node testnet, right after start, the
// three services work from outside the process, the way their users reach
// them: an OpenAI client's plain HTTP calls, and the CLI for the vault and
// the market.
func TestTestnetServices(t *testing.T) {
	dir := t.TempDir()
	cmd, m, out := startTestnet(t, dir, "5")
	t.Run("compute", func(t *testing.T) { checkOpenAIAPI(t, m.Nodes[3]) })
	t.Run("passport", func(t *testing.T) { checkPassport(t, dir, m.Nodes[3], m.Nodes[4]) })
	t.Run("market", func(t *testing.T) { checkMarket(t, m) })
	stopTestnet(t, cmd, dir, out)
}

// openAIPost sends body to the node's OpenAI-compatible API as any OpenAI
// client would: bearer key, JSON in, JSON or server-sent events out.
func openAIPost(t *testing.T, n testnet.NodeInfo, path, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, n.API+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+n.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func checkOpenAIAPI(t *testing.T, n testnet.NodeInfo) {
	var models struct {
		Object string `json:"object"`
		Data   []struct {
			ID     string `json:"id"`
			Object string `json:"object"`
		} `json:"data"`
	}
	waitCLI(t, "the worker's offer to reach "+n.Name, func() bool {
		req, _ := http.NewRequest(http.MethodGet, n.API+"/v1/models", nil)
		req.Header.Set("Authorization", "Bearer "+n.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		return json.NewDecoder(resp.Body).Decode(&models) == nil && len(models.Data) > 0
	})
	if models.Object != "list" || models.Data[0].Object != "model" {
		t.Fatalf("GET /v1/models: %+v", models)
	}
	model := models.Data[0].ID

	resp := openAIPost(t, n, "/v1/chat/completions",
		`{"model":"`+model+`","messages":[{"role":"user","content":"Once upon a time"}],"max_tokens":20,"temperature":0}`)
	var answer struct {
		Object  string `json:"object"`
		Choices []struct {
			Message struct {
				Role    string `json:"role"`
				Content string `json:"content"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
			TotalTokens      int `json:"total_tokens"`
		} `json:"usage"`
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &answer) != nil {
		t.Fatalf("chat completion: %d %s", resp.StatusCode, body)
	}
	if answer.Object != "chat.completion" || len(answer.Choices) != 1 || answer.Choices[0].Message.Role != "assistant" ||
		answer.Choices[0].Message.Content == "" || answer.Usage.CompletionTokens == 0 ||
		answer.Usage.TotalTokens != answer.Usage.PromptTokens+answer.Usage.CompletionTokens {
		t.Fatalf("chat completion answer: %s", body)
	}
	if resp.Header.Get("X-Tonmesh-Confidential") != "false" {
		t.Errorf("an answer from a none-attested worker lacks X-Tonmesh-Confidential: false (headers %v)", resp.Header)
	}

	resp = openAIPost(t, n, "/v1/chat/completions",
		`{"model":"`+model+`","messages":[{"role":"user","content":"Once"}],"max_tokens":16,"stream":true,"stream_options":{"include_usage":true}}`)
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "text/event-stream") {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("streaming: %d %s %s", resp.StatusCode, ct, b)
	}
	var events []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			events = append(events, data)
		}
	}
	if len(events) < 3 || events[len(events)-1] != "[DONE]" || !strings.Contains(events[len(events)-2], `"usage"`) ||
		!strings.Contains(events[0], `"chat.completion.chunk"`) {
		t.Fatalf("stream events: %q", events)
	}

	resp = openAIPost(t, n, "/v1/chat/completions", `{"model":"no-such-model","messages":[{"role":"user","content":"hi"}]}`)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	var oerr struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if resp.StatusCode < 400 || resp.StatusCode >= 500 || json.Unmarshal(body, &oerr) != nil || !strings.Contains(oerr.Error.Message, "no-such-model") {
		t.Errorf("unknown model: %d %s, want a 4xx OpenAI error naming the model", resp.StatusCode, body)
	}

	// Greedy, so that the answer cannot end at its first token by chance
	// (node.TestDefaultModelsAnswerGreedily).
	if got := cli(t, n, nil, "compute", "infer", "--model", model, "--temperature", "0", "Once upon a time"); strings.TrimSpace(got) == "" {
		t.Error("compute infer printed no answer")
	}
	// Every node serves the same weights, so one seed gives one answer
	// whichever worker runs it.
	first := cli(t, n, nil, "compute", "infer", "--model", model, "--seed", "7", "Once upon a time")
	if again := cli(t, n, nil, "compute", "infer", "--model", model, "--seed", "7", "Once upon a time"); again != first {
		t.Errorf("compute infer --seed 7 answered %q, then %q", first, again)
	}
}

func writeRSAKeys(t *testing.T, dir string) (pubPath, privPath string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pubPath, privPath = filepath.Join(dir, "service.pub.pem"), filepath.Join(dir, "service.key.pem")
	if err := os.WriteFile(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(privPath, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		t.Fatal(err)
	}
	return pubPath, privPath
}

func checkPassport(t *testing.T, dir string, user, service testnet.NodeInfo) {
	// Over one segment (1 MiB): the element is stored striped and read
	// streamed.
	scan := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte("tonmesh-e2e-scan "), 72<<10)...)
	scanPath := filepath.Join(dir, "scan.jpg")
	if err := os.WriteFile(scanPath, scan, 0o600); err != nil {
		t.Fatal(err)
	}
	cli(t, user, nil, "passport", "add", "personal_details",
		"--field", "first_name=Ada", "--field", "last_name=Lovelace", "--field", "birth_date=10.12.1815",
		"--field", "gender=female", "--field", "country_code=GB", "--field", "residence_country_code=GB")
	cli(t, user, nil, "passport", "add", "passport", "--field", "document_no=X1234567",
		"--field", "expiry_date=01.01.2035", "--file", "front_side="+scanPath)
	res := binharness.Run(t, nil, "--home", user.Home, "passport", "add", "personal_details",
		"--field", "first_name=Ada", "--field", "last_name=Lovelace", "--field", "birth_date=31.02.1815",
		"--field", "gender=female", "--field", "country_code=GB", "--field", "residence_country_code=GB")
	requireCleanFailure(t, "an impossible birth date", res, "birth_date")
	res = binharness.Run(t, nil, "--home", user.Home, "passport", "add", "passport", "--field", "document_no=X1", "--field", "expiry_date=01.01.2035")
	requireCleanFailure(t, "a passport without its scan", res, "front_side")
	var list []struct {
		Type      string `json:"type"`
		Reachable int    `json:"reachable"`
		N         int    `json:"n"`
	}
	cli(t, user, &list, "passport", "list", "--json")
	if len(list) != 2 || list[0].Reachable != list[0].N {
		t.Fatalf("passport list: %+v", list)
	}
	var shown struct {
		Data      map[string]string `json:"data"`
		FrontSide struct {
			Bytes []byte `json:"bytes"`
		} `json:"front_side"`
	}
	cli(t, user, &shown, "passport", "show", "passport", "--json")
	if shown.Data["document_no"] != "X1234567" || !bytes.Equal(shown.FrontSide.Bytes, scan) {
		t.Fatalf("passport show: data %v, scan of %d bytes (want %d, identical)", shown.Data, len(shown.FrontSide.Bytes), len(scan))
	}
	if out := cli(t, user, nil, "passport", "show", "passport"); !strings.Contains(out, "front_side") || !strings.Contains(out, fmt.Sprintf("%d bytes", len(scan))) {
		t.Fatalf("passport show table does not list the scan of %d bytes:\n%s", len(scan), out)
	}
	saveDir := filepath.Join(dir, "saved")
	var saved struct {
		Element struct {
			Data map[string]string `json:"data"`
		} `json:"element"`
		Saved []struct {
			Role string `json:"role"`
			Path string `json:"path"`
			Size int    `json:"size"`
		} `json:"saved"`
	}
	cli(t, user, &saved, "passport", "show", "passport", "--save-files", saveDir, "--json")
	if saved.Element.Data["document_no"] != "X1234567" || len(saved.Saved) != 1 || saved.Saved[0].Role != "front_side" || saved.Saved[0].Size != len(scan) {
		t.Fatalf("passport show --save-files: %+v", saved)
	}
	if got, err := os.ReadFile(saved.Saved[0].Path); err != nil || !bytes.Equal(got, scan) {
		t.Fatalf("saved scan %s: %d bytes, %v; want the %d bytes added", saved.Saved[0].Path, len(got), err, len(scan))
	}
	if entries, err := os.ReadDir(saveDir); err != nil || len(entries) != 1 {
		t.Fatalf("--save-files left %d entries in %s (%v), want the one scan and no temporary file", len(entries), saveDir, err)
	}

	var holders []struct {
		Peer      string `json:"peer"`
		Reachable bool   `json:"reachable"`
	}
	cli(t, user, &holders, "passport", "holders", "passport", "--json")
	if len(holders) != list[0].N {
		t.Fatalf("passport holders: %+v, want %d shards", holders, list[0].N)
	}
	for _, h := range holders {
		if !h.Reachable || h.Peer == user.PeerID {
			t.Fatalf("passport holders: %+v (every shard on another, reachable peer)", holders)
		}
	}

	pub, priv := writeRSAKeys(t, dir)
	var req struct {
		ID        string `json:"id"`
		Delivered bool   `json:"delivered"`
	}
	cli(t, service, &req, "passport", "request", "--scope", `{"v":1,"data":["personal_details"]}`,
		"--public-key", pub, "--to", user.PeerID, "--json")
	if !req.Delivered {
		t.Fatalf("request not delivered: %+v", req)
	}
	var pending []struct {
		ID string `json:"id"`
	}
	cli(t, user, &pending, "passport", "requests", "--json")
	if len(pending) != 1 {
		t.Fatalf("user's pending requests: %+v", pending)
	}
	cli(t, user, nil, "passport", "approve", pending[0].ID)
	var got []struct {
		Elements []struct {
			Type      string            `json:"type"`
			Data      map[string]string `json:"data"`
			FrontSide any               `json:"front_side"`
		} `json:"elements"`
		Error string `json:"error"`
	}
	cli(t, service, &got, "passport", "received", "--private-key", priv, "--json")
	if len(got) != 1 || got[0].Error != "" || len(got[0].Elements) != 1 || got[0].Elements[0].Type != "personal_details" ||
		got[0].Elements[0].Data["first_name"] != "Ada" {
		t.Fatalf("the service decrypted %+v, want exactly personal_details", got)
	}

	cli(t, user, nil, "passport", "delete", "passport")
	cli(t, user, &list, "passport", "list", "--json")
	if len(list) != 1 || list[0].Type != "personal_details" {
		t.Fatalf("passport list after delete: %+v", list)
	}
	res = binharness.Run(t, nil, "--home", user.Home, "passport", "show", "passport")
	requireCleanFailure(t, "show a deleted element", res, "passport")
}

func checkMarket(t *testing.T, m *testnet.Manifest) {
	seller, bidder1, bidder2 := m.Nodes[2], m.Nodes[3], m.Nodes[4]
	var bought struct {
		Asset string `json:"asset"`
		Owner string `json:"owner"`
	}
	waitCLI(t, "the registry to deploy the collection", func() bool {
		res := binharness.Run(t, nil, "--home", seller.Home, "market", "buy-number", "--json")
		return res.ExitCode == 0 && json.Unmarshal([]byte(res.Stdout), &bought) == nil
	})
	if !strings.HasPrefix(bought.Asset, "+888 ") {
		t.Fatalf("buy-number gave %+v", bought)
	}
	cli(t, seller, nil, "market", "auction", "start", bought.Asset, "--min", "2", "--duration", "1h")
	cli(t, bidder1, nil, "market", "bid", bought.Asset, "2")
	cli(t, bidder2, nil, "market", "bid", bought.Asset, "3.5")
	deadline := time.Now().Add(30 * time.Second)
	for _, n := range m.Nodes {
		var auctions []struct {
			Asset      string `json:"asset"`
			Leader     string `json:"leader"`
			LeadingBid struct {
				TON string `json:"ton"`
			} `json:"leading_bid"`
		}
		for {
			cli(t, n, &auctions, "market", "list", "--json")
			if len(auctions) == 1 && auctions[0].LeadingBid.TON == "3.5" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s shows %+v, want %s leading at 3.5 TON", n.Name, auctions, bidder2.Name)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	res := binharness.Run(t, nil, "--home", bidder1.Home, "market", "bid", bought.Asset, "3.6")
	requireCleanFailure(t, "a bid below the minimum step", res, "TON")
	res = binharness.Run(t, nil, "--home", bidder1.Home, "market", "bid", "@ab", "3")
	requireCleanFailure(t, "a username too short", res, "5")
	res = binharness.Run(t, nil, "--home", bidder1.Home, "compute", "infer", "Once")
	requireCleanFailure(t, "infer without a model", res, "model")
	res = binharness.Run(t, nil, "--home", bidder1.Home, "compute", "infer", "--model", "m", "--temperature", "3", "Once")
	requireCleanFailure(t, "infer at temperature 3", res, "--temperature")
	// Usernames are minted by the registry (node1) only.
	res = binharness.Run(t, nil, "--home", seller.Home, "market", "mint", "@e2e_user")
	requireCleanFailure(t, "mint by a node that is not the registry", res, "registry")
	cli(t, m.Nodes[0], nil, "market", "mint", "@E2E_user", "--owner", seller.Address)
	var owner struct {
		Asset struct {
			Asset string `json:"asset"`
			Owner string `json:"owner"`
		} `json:"asset"`
	}
	cli(t, bidder2, &owner, "market", "resolve", "@e2e_user", "--json")
	if owner.Asset.Asset != "@e2e_user" || owner.Asset.Owner != seller.Address {
		t.Fatalf("resolve @e2e_user: %+v, want owned by %s", owner, seller.Address)
	}

	// The number's owner is reachable in chat by the number.
	cli(t, bidder1, nil, "chat", "send", bought.Asset, "is this number for sale?")
	waitCLI(t, "the owner to get a message sent to the number", func() bool {
		return strings.Contains(cli(t, seller, nil, "chat", "read", bidder1.PeerID), "is this number for sale?")
	})
	var resolved struct {
		Asset struct {
			Owner string `json:"owner"`
		} `json:"asset"`
	}
	cli(t, bidder1, &resolved, "market", "resolve", bought.Asset, "--json")
	if resolved.Asset.Owner == "" {
		t.Fatalf("resolve %s: %+v", bought.Asset, resolved)
	}
}
