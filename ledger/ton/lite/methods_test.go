package lite

import (
	"bytes"
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/xssnick/tonutils-go/address"
	"github.com/xssnick/tonutils-go/tl"
	"github.com/xssnick/tonutils-go/tlb"
	tonapi "github.com/xssnick/tonutils-go/ton"
	"github.com/xssnick/tonutils-go/tvm/cell"
	"github.com/xssnick/tonutils-go/tvm/vm"
)

func addrOf(b byte) *address.Address {
	return address.NewAddress(0, 0, bytes.Repeat([]byte{b}, 32))
}

func TestAccountStates(t *testing.T) {
	c, api := testChain(t, Mainnet)
	ctx := context.Background()
	code := cell.BeginCell().MustStoreUInt(0xc0de, 16).EndCell()
	data := cell.BeginCell().MustStoreUInt(0xda7a, 16).EndCell()
	lastHash := bytes.Repeat([]byte{9}, 32)
	state := func(addr *address.Address, status tlb.AccountStatus, nano uint64, si *tlb.StateInit) *tlb.Account {
		return &tlb.Account{IsActive: true, LastTxLT: 77, LastTxHash: lastHash, State: &tlb.AccountState{
			IsValid: true, Address: addr,
			AccountStorage: tlb.AccountStorage{Status: status, Balance: tlb.FromNanoTONU(nano), StateInit: si},
		}}
	}
	active, uninit, frozen, unused := addrOf(1), addrOf(2), addrOf(3), addrOf(4)
	api.setAccount(active, state(active, tlb.AccountStatusActive, 5_000_000_000, &tlb.StateInit{Code: code, Data: data}))
	api.setAccount(uninit, state(uninit, tlb.AccountStatusUninit, 42, nil))
	api.setAccount(frozen, state(frozen, tlb.AccountStatusFrozen, 1, nil))

	cases := []struct {
		addr    *address.Address
		status  ton.AccountStatus
		balance int64
		code    bool
		lastLT  uint64
	}{
		{active, ton.StatusActive, 5_000_000_000, true, 77},
		{uninit, ton.StatusUninit, 42, false, 77},
		{frozen, ton.StatusFrozen, 1, false, 77},
		{unused, ton.StatusNonExist, 0, false, 0},
	}
	for _, tc := range cases {
		st, err := c.Account(ctx, tc.addr)
		if err != nil {
			t.Fatal(err)
		}
		if st.Status != tc.status || st.Balance.Int64() != tc.balance || st.LastTxLT != tc.lastLT || !st.Address.Equals(tc.addr) {
			t.Errorf("%s: got %s %s lt %d, want %s %d lt %d", tc.addr, st.Status, st.Balance, st.LastTxLT, tc.status, tc.balance, tc.lastLT)
		}
		if tc.code != (st.Code != nil && st.Data != nil) {
			t.Errorf("%s: code/data presence %v, want %v", tc.addr, st.Code != nil, tc.code)
		}
		if tc.lastLT != 0 && !bytes.Equal(st.LastTxHash, lastHash) {
			t.Errorf("%s: last tx hash %x", tc.addr, st.LastTxHash)
		}
		if tc.lastLT == 0 && st.LastTxHash != nil {
			t.Errorf("%s: unused account has a last tx hash", tc.addr)
		}
	}
	st, _ := c.Account(ctx, active)
	if !bytes.Equal(st.Code.Hash(), code.Hash()) || !bytes.Equal(st.Data.Hash(), data.Hash()) {
		t.Error("active account: code or data differ")
	}

	if _, err := c.Account(ctx, nil); err == nil {
		t.Error("nil address accepted")
	}
	if _, err := c.Account(ctx, address.NewAddressNone()); err == nil {
		t.Error("addr_none accepted")
	}
}

func externalBOC(t *testing.T, dst *address.Address) []byte {
	t.Helper()
	body := cell.BeginCell().MustStoreUInt(0xdeadbeef, 32).EndCell()
	c, err := tlb.ToCell(&tlb.ExternalMessage{DstAddr: dst, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	return c.ToBOC()
}

func TestSendExternal(t *testing.T) {
	ctx := context.Background()
	boc := externalBOC(t, addrOf(7))
	parsed, err := ton.ParseExternal(boc)
	if err != nil {
		t.Fatal(err)
	}

	c, api := testChain(t, Mainnet)
	hash, err := c.SendExternal(ctx, boc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(hash, parsed.Hash) {
		t.Errorf("hash %x, want the normalised hash %x", hash, parsed.Hash)
	}
	if len(api.ls.sent) != 1 {
		t.Fatalf("%d messages reached the liteserver, want 1", len(api.ls.sent))
	}
	got, err := ton.ParseExternal(api.ls.sent[0])
	if err != nil || !bytes.Equal(got.Hash, parsed.Hash) {
		t.Errorf("the liteserver got another message (%v)", err)
	}

	// The contract refuses: ton.ErrRejected, with the liteserver's reason.
	api.ls.send = tonapi.LSError{Code: 0, Text: "cannot apply external message to current state : External message was not accepted\nCannot run message on account: exitcode=33"}
	_, err = c.SendExternal(ctx, boc)
	if !errors.Is(err, ton.ErrRejected) || !strings.Contains(err.Error(), "exitcode=33") {
		t.Errorf("refused message: want ton.ErrRejected with the reason, got %v", err)
	}

	// Other failures are not rejections.
	api.ls.send = tonapi.LSError{Code: 502, Text: "backend unavailable"}
	_, err = c.SendExternal(ctx, boc)
	if err == nil || errors.Is(err, ton.ErrRejected) || !strings.Contains(err.Error(), "backend unavailable") {
		t.Errorf("liteserver failure: want a plain error, got %v", err)
	}
	api.ls.send = tonapi.SendMessageStatus{Status: 0}
	if _, err = c.SendExternal(ctx, boc); err == nil || errors.Is(err, ton.ErrRejected) {
		t.Errorf("status 0: want a plain error, got %v", err)
	}

	// Malformed input never reaches the liteserver.
	sent := api.ls.count("send")
	for _, bad := range [][]byte{nil, {1, 2, 3}, cell.BeginCell().MustStoreUInt(1, 8).EndCell().ToBOC()} {
		if _, err := c.SendExternal(ctx, bad); err == nil {
			t.Errorf("malformed %x accepted", bad)
		}
	}
	if api.ls.count("send") != sent {
		t.Error("a malformed message was sent")
	}
}

// echoStack answers a get-method with its own arguments after checking
// the request against the TVM stack layout: the root cell's value is the
// top of the stack (vm_stk_cons#_ rest:^VmStackList tos:VmStackValue),
// which must be the last argument.
func echoStack(t *testing.T, wantTop func(any) bool) func(*tonapi.RunSmcMethod) tl.Serializable {
	return func(req *tonapi.RunSmcMethod) tl.Serializable {
		params, err := cell.FromBOC(req.Params)
		if err != nil {
			t.Errorf("params: %v", err)
			return tonapi.LSError{Code: 1, Text: "bad params"}
		}
		s := params.MustBeginParse()
		depth := s.MustLoadUInt(24)
		if depth > 0 {
			s.MustLoadRef()
			top, err := tlb.ParseStackValue(s)
			if err != nil || !wantTop(top) {
				t.Errorf("top of the stack is %v (%v), not the last argument", top, err)
			}
		}
		if req.MethodID != tlb.MethodNameHash("echo") {
			t.Errorf("method id %d", req.MethodID)
		}
		return tonapi.RunMethodResult{Mode: req.Mode, ID: req.ID, ShardBlock: req.ID, ExitCode: 0, Result: params}
	}
}

func TestRunGetMethodStackOrder(t *testing.T) {
	c, api := testChain(t, Mainnet)
	ctx := context.Background()
	who := addrOf(5)
	ref := cell.BeginCell().MustStoreUInt(0xabc, 12).EndCell()
	api.ls.run = echoStack(t, func(top any) bool {
		tuple, ok := top.([]any)
		return ok && len(tuple) == 2
	})
	big257 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
	out, err := c.RunGetMethod(ctx, addrOf(1), "echo", 7, big257, ref, who, nil, []any{int64(-1), uint64(2)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 6 {
		t.Fatalf("%d results, want 6", len(out))
	}
	if n, ok := out[0].(*big.Int); !ok || n.Int64() != 7 {
		t.Errorf("result 0: %v, want 7", out[0])
	}
	if n, ok := out[1].(*big.Int); !ok || n.Cmp(big257) != 0 {
		t.Errorf("result 1: %v, want 2^256-1", out[1])
	}
	if cl, ok := out[2].(*cell.Cell); !ok || !bytes.Equal(cl.Hash(), ref.Hash()) {
		t.Errorf("result 2: %v, want the cell", out[2])
	}
	if sl, ok := out[3].(*cell.Slice); !ok {
		t.Errorf("result 3: %T, want a slice", out[3])
	} else if a, err := sl.LoadAddr(); err != nil || !a.Equals(who) {
		t.Errorf("result 3: address %v (%v), want %s", a, err, who)
	}
	if out[4] != nil {
		t.Errorf("result 4: %v, want null", out[4])
	}
	tuple, ok := out[5].([]any)
	if !ok || len(tuple) != 2 || tuple[0].(*big.Int).Int64() != -1 || tuple[1].(*big.Int).Int64() != 2 {
		t.Errorf("result 5: %v, want the tuple (-1, 2)", out[5])
	}
}

func TestRunGetMethodErrors(t *testing.T) {
	c, api := testChain(t, Mainnet)
	ctx := context.Background()
	var exit int32
	api.ls.run = func(req *tonapi.RunSmcMethod) tl.Serializable {
		if exit == tonapi.ErrCodeContractNotInitialized {
			return tonapi.LSError{Code: exit, Text: "contract not initialized"}
		}
		return tonapi.RunMethodResult{Mode: req.Mode, ID: req.ID, ShardBlock: req.ID, ExitCode: exit}
	}

	exit = 11
	_, err := c.RunGetMethod(ctx, addrOf(1), "get_thing")
	var gm *ton.ErrGetMethod
	if !errors.As(err, &gm) || gm.ExitCode != 11 || gm.Method != "get_thing" {
		t.Errorf("exit 11: want *ton.ErrGetMethod, got %v", err)
	}
	exit = tonapi.ErrCodeContractNotInitialized
	if _, err := c.RunGetMethod(ctx, addrOf(1), "seqno"); !errors.Is(err, ton.ErrNotActive) {
		t.Errorf("uninitialised contract: want ton.ErrNotActive, got %v", err)
	}

	// Arguments tonutils-go would panic on, or that ton.Chain does not
	// take, are refused before anything is sent.
	runs := api.ls.count("run")
	over := new(big.Int).Lsh(big.NewInt(1), 256)
	deep := []any{}
	for range ton.MaxStackDepth + 2 {
		deep = []any{deep}
	}
	for name, arg := range map[string]any{
		"nil big.Int": (*big.Int)(nil), "2^256": over, "-2^256-1": new(big.Int).Neg(new(big.Int).Add(over, big.NewInt(1))),
		"nil cell": (*cell.Cell)(nil), "nil slice": (*cell.Slice)(nil), "nil address": (*address.Address)(nil),
		"string": "seven", "float": 1.5, "long tuple": make([]any, ton.MaxTupleLen+1), "deep tuple": deep,
	} {
		if _, err := c.RunGetMethod(ctx, addrOf(1), "echo", arg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if api.ls.count("run") != runs {
		t.Error("a bad argument reached the liteserver")
	}
	if _, err := ton.StackArgs([]any{new(big.Int).Neg(over)}); err != nil {
		t.Errorf("-2^256 is a TVM integer: %v", err)
	}
}

func TestRunGetMethodResults(t *testing.T) {
	c, api := testChain(t, Mainnet)
	stack := tlb.NewStack()
	// tlb.Stack's top is the deepest TVM value: push the last result first.
	stack.Push(tlb.StackNaN{})
	stack.Push(cell.BeginCell().MustStoreUInt(1, 4))
	stack.Push([]any{})
	res, err := stack.ToCell()
	if err != nil {
		t.Fatal(err)
	}
	api.ls.run = func(req *tonapi.RunSmcMethod) tl.Serializable {
		return tonapi.RunMethodResult{Mode: req.Mode, ID: req.ID, ShardBlock: req.ID, Result: res}
	}
	out, err := c.RunGetMethod(context.Background(), addrOf(1), "mixed")
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 3 {
		t.Fatalf("%d results, want 3", len(out))
	}
	if tu, ok := out[0].([]any); !ok || tu == nil || len(tu) != 0 {
		t.Errorf("result 0: %#v, want an empty non-nil tuple", out[0])
	}
	if _, ok := out[1].(*cell.Builder); !ok {
		t.Errorf("result 1: %T, want a builder", out[1])
	}
	if _, ok := out[2].(vm.NaN); !ok {
		t.Errorf("result 2: %T, want vm.NaN as the emulated chain gives", out[2])
	}
}

func TestStartChecksGlobalID(t *testing.T) {
	api := newFakeAPI()
	api.globalID = TestnetGlobalID
	c := newChain(api, Config{Network: Mainnet, GlobalConfig: "cfg.json"}, options{log: quietLog()})
	defer c.Close()
	err := c.start(context.Background())
	if err == nil {
		t.Fatal("a testnet chain accepted as mainnet")
	}
	for _, want := range []string{"ton.network is mainnet (global id -239)", "cfg.json", "serve global id -3 (testnet)", "ton.global_config"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}

	c2, _ := testChain(t, Testnet)
	if c2.GlobalID() != TestnetGlobalID {
		t.Errorf("testnet chain: global id %d", c2.GlobalID())
	}
	c3, _ := testChain(t, Mainnet)
	if c3.GlobalID() != MainnetGlobalID {
		t.Errorf("mainnet chain: global id %d", c3.GlobalID())
	}
}

func TestGlobalIDOfBadConfig(t *testing.T) {
	if _, err := globalIDOf(nil); err == nil {
		t.Error("nil config accepted")
	}
	if _, err := globalIDOf(&tlb.BlockchainConfig{Root: cell.NewDict(32).AsCell()}); err == nil {
		t.Error("config without param 19 accepted")
	}
	d := cell.NewDict(32)
	short := cell.BeginCell().MustStoreUInt(1, 8).EndCell()
	if err := d.SetIntKey(big.NewInt(globalIDParam), cell.BeginCell().MustStoreRef(short).EndCell()); err != nil {
		t.Fatal(err)
	}
	if _, err := globalIDOf(&tlb.BlockchainConfig{Root: d.AsCell()}); err == nil {
		t.Error("8-bit param 19 accepted")
	}
	if id, err := globalIDOf(configWithGlobalID(-239)); err != nil || id != -239 {
		t.Errorf("param 19 = -239: got %d, %v", id, err)
	}
}
