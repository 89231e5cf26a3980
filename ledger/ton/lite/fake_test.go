package lite

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"reflect"
	"sync"
	"testing"

	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tl"
	"github.com/xssnick/tonutils-go/tlb"
	tonapi "github.com/xssnick/tonutils-go/ton"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

// fakeLS is a liteserver at the TL level: tonutils-go's real API client
// runs over it, so the chain's requests and tonutils-go's decoding of the
// answers are the ones used live. It serves a masterchain head, the
// transactions it holds (by hash, following the previous-transaction
// hashes), external messages and get-methods.
type fakeLS struct {
	mu     sync.Mutex
	master *tonapi.BlockIDExt
	txs    map[string]*cell.Cell // hex hash -> transaction
	// list, when set, answers getTransactions instead of txs.
	list func(req tonapi.GetTransactions) tl.Serializable
	// send answers sendMessage (default: accepted).
	send tl.Serializable
	sent [][]byte
	// run answers runSmcMethod.
	run   func(req *tonapi.RunSmcMethod) tl.Serializable
	calls map[string]int
}

func newFakeLS() *fakeLS {
	return &fakeLS{
		master: &tonapi.BlockIDExt{Workchain: -1, Shard: -1 << 63, SeqNo: 1000, RootHash: make([]byte, 32), FileHash: make([]byte, 32)},
		txs:    map[string]*cell.Cell{},
		calls:  map[string]int{},
	}
}

func (f *fakeLS) QueryLiteserver(_ context.Context, payload tl.Serializable, result tl.Serializable) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var resp tl.Serializable
	switch p := payload.(type) {
	case tonapi.GetMasterchainInf:
		f.calls["master"]++
		resp = tonapi.MasterchainInfo{Last: f.master, StateRootHash: make([]byte, 32), Init: &tonapi.ZeroStateIDExt{Workchain: -1, RootHash: make([]byte, 32), FileHash: make([]byte, 32)}}
	case tonapi.GetTransactions:
		f.calls["list"]++
		if f.list != nil {
			resp = f.list(p)
		} else {
			resp = f.listTxs(p)
		}
	case tonapi.SendMessage:
		f.calls["send"]++
		f.sent = append(f.sent, p.Body)
		resp = f.send
		if resp == nil {
			resp = tonapi.SendMessageStatus{Status: 1}
		}
	case *tonapi.RunSmcMethod:
		f.calls["run"]++
		resp = f.run(p)
	default:
		return fmt.Errorf("fake liteserver: unexpected request %T", payload)
	}
	reflect.ValueOf(result).Elem().Set(reflect.ValueOf(resp))
	return nil
}

func (f *fakeLS) listTxs(req tonapi.GetTransactions) tl.Serializable {
	var roots []*cell.Cell
	hash := req.TxHash
	for len(roots) < int(req.Limit) {
		c, ok := f.txs[hex.EncodeToString(hash)]
		if !ok {
			break
		}
		roots = append(roots, c)
		var tx tlb.Transaction
		if err := tlb.Parse(&tx, c); err != nil {
			panic(err)
		}
		if tx.PrevTxLT == 0 {
			break
		}
		hash = tx.PrevTxHash
	}
	if len(roots) == 0 {
		return tonapi.LSError{Code: -400, Text: "cannot compute block with specified transaction: lt not in db"}
	}
	return tonapi.TransactionList{Transactions: cell.ToBOCWithFlags(roots, false)}
}

func (f *fakeLS) count(what string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[what]
}

func (f *fakeLS) StickyContext(ctx context.Context) context.Context { return ctx }
func (f *fakeLS) StickyContextNextNode(ctx context.Context) (context.Context, error) {
	return ctx, nil
}
func (f *fakeLS) StickyContextNextNodeBalanced(ctx context.Context) (context.Context, error) {
	return ctx, nil
}
func (f *fakeLS) StickyNodeID(context.Context) uint32 { return 0 }

// fakeAPI is tonutils-go's API client over a fakeLS, with the two
// requests whose answers need real proofs (account states, config
// params) answered directly.
type fakeAPI struct {
	*tonapi.APIClient
	ls       *fakeLS
	mu       sync.Mutex
	accounts map[string]*tlb.Account // by raw address
	globalID int32
}

func newFakeAPI() *fakeAPI {
	ls := newFakeLS()
	return &fakeAPI{
		APIClient: tonapi.NewAPIClient(ls, tonapi.ProofCheckPolicyUnsafe),
		ls:        ls,
		accounts:  map[string]*tlb.Account{},
		globalID:  MainnetGlobalID,
	}
}

func (f *fakeAPI) GetAccount(_ context.Context, _ *tonapi.BlockIDExt, addr *address.Address) (*tlb.Account, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if a, ok := f.accounts[addr.StringRaw()]; ok {
		return a, nil
	}
	return &tlb.Account{IsActive: false}, nil
}

func (f *fakeAPI) GetBlockchainConfig(_ context.Context, _ *tonapi.BlockIDExt, params ...int32) (*tlb.BlockchainConfig, error) {
	if len(params) != 1 || params[0] != globalIDParam {
		return nil, fmt.Errorf("fake: unexpected config params %v", params)
	}
	return configWithGlobalID(f.globalID), nil
}

func (f *fakeAPI) setAccount(addr *address.Address, a *tlb.Account) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.accounts[addr.StringRaw()] = a
}

// configWithGlobalID is a config holding param 19, laid out as
// GetBlockchainConfig returns it.
func configWithGlobalID(id int32) *tlb.BlockchainConfig {
	d := cell.NewDict(32)
	p := cell.BeginCell().MustStoreInt(int64(id), 32).EndCell()
	if err := d.SetIntKey(bigInt(globalIDParam), cell.BeginCell().MustStoreRef(p).EndCell()); err != nil {
		panic(err)
	}
	return &tlb.BlockchainConfig{Root: d.AsCell()}
}

// testChain is a Chain over a fresh fakeAPI, started (global id checked).
func testChain(t testing.TB, network string) (*Chain, *fakeAPI) {
	t.Helper()
	api := newFakeAPI()
	if network == Testnet {
		api.globalID = TestnetGlobalID
	}
	c := newChain(api, Config{Network: network, GlobalConfig: "test-config.json"}, options{log: quietLog()})
	t.Cleanup(c.Close)
	if err := c.start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c, api
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// fixtureTx is one transaction of testdata/mainnet_txs.boc.
type fixtureTx struct {
	cell *cell.Cell
	tx   *tlb.Transaction
}

// loadFixture returns the fixture's transactions, by account (hex), oldest
// first.
func loadFixture(t testing.TB) map[string][]fixtureTx {
	t.Helper()
	raw, err := os.ReadFile(fixturePath)
	if err != nil {
		t.Fatal(err)
	}
	roots, err := cell.FromBOCMultiRoot(raw)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]fixtureTx{}
	for _, c := range roots {
		var tx tlb.Transaction
		if err := tlb.Parse(&tx, c); err != nil {
			t.Fatal(err)
		}
		tx.Hash = c.Hash()
		k := hex.EncodeToString(tx.AccountAddr)
		out[k] = append(out[k], fixtureTx{cell: c, tx: &tx})
	}
	for _, list := range out {
		for i := 1; i < len(list); i++ {
			if list[i].tx.LT <= list[i-1].tx.LT {
				t.Fatal("fixture is not oldest first per account")
			}
		}
	}
	return out
}

// serveAccount puts an account's transactions on the fake liteserver and
// its state (last transaction = the newest) on the fake API.
func serveAccount(api *fakeAPI, list []fixtureTx) *address.Address {
	newest := list[len(list)-1].tx
	addr := address.NewAddress(0, 0, newest.AccountAddr)
	api.ls.mu.Lock()
	for _, ft := range list {
		api.ls.txs[hex.EncodeToString(ft.cell.Hash())] = ft.cell
	}
	api.ls.mu.Unlock()
	api.setAccount(addr, &tlb.Account{
		IsActive:   true,
		LastTxLT:   newest.LT,
		LastTxHash: newest.Hash,
		State: &tlb.AccountState{IsValid: true, Address: addr, AccountStorage: tlb.AccountStorage{
			Status: tlb.AccountStatusActive, Balance: tlb.FromNanoTONU(1), LastTransactionLT: newest.LT,
		}},
	})
	return addr
}
