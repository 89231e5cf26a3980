package market

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// testLoginCodes: node 1 (a service) asks for codes for an asset node 2
// owns. Each code reaches node 2 and no other node, verifies once, and
// expires.
func testLoginCodes(ctx context.Context, t *testing.T, c *mcluster) {
	reg, service, owner, other := c.nodes[0], c.nodes[1], c.nodes[2], c.nodes[3]
	asset := mustAsset(t, "+888 0000 0042")
	if _, err := reg.svc.Mint(ctx, asset, owner.addr); err != nil {
		t.Fatal(err)
	}
	req, err := service.svc.RequestCode(ctx, asset)
	if err != nil {
		t.Fatal(err)
	}
	if req.DeliveredTo != owner.peer.Net.ID().String() || req.Owner != fmtAddr(owner.addr) {
		t.Fatalf("code request %+v: want delivery to the owner's node %s", req, owner.peer.Net.ID())
	}
	got, err := owner.svc.Codes()
	if err != nil || len(got) != 1 || got[0].ID != req.ID || got[0].Asset != asset.String() || got[0].From != service.peer.Net.ID().String() {
		t.Fatalf("owner's codes = %+v, %v", got, err)
	}
	code := got[0].Code
	for i, n := range c.nodes {
		if n == owner {
			continue
		}
		if list, _ := n.svc.Codes(); len(list) != 0 {
			t.Fatalf("node %d, not the owner, holds codes %+v", i, list)
		}
	}
	// The issuing node keeps no plain code.
	raw, err := service.svc.space.Get([]byte(prefixIssued + req.ID))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), code) {
		t.Fatalf("the issuing node stored the code in clear: %s", raw)
	}

	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	if _, err := service.svc.VerifyCode(ctx, req.ID, wrong); !errors.Is(err, ErrCodeWrong) {
		t.Fatalf("wrong code: %v, want ErrCodeWrong", err)
	}
	ok, err := service.svc.VerifyCode(ctx, req.ID, code)
	if err != nil || !ok.Valid || ok.Owner != fmtAddr(owner.addr) {
		t.Fatalf("right code: %+v, %v", ok, err)
	}
	if _, err := service.svc.VerifyCode(ctx, req.ID, code); !errors.Is(err, ErrCodeUsed) {
		t.Fatalf("second use: %v, want ErrCodeUsed", err)
	}

	// A code not used in time expires.
	req2, err := service.svc.RequestCode(ctx, asset)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = owner.svc.Codes()
	if len(got) != 2 || got[0].ID != req2.ID {
		t.Fatalf("owner's codes after a second request = %+v", got)
	}
	service.svc.now = func() time.Time { return time.Now().Add(service.svc.cfg.CodeTTL + time.Second) }
	if _, err := service.svc.VerifyCode(ctx, req2.ID, got[0].Code); !errors.Is(err, ErrCodeExpired) {
		t.Fatalf("expired code: %v, want ErrCodeExpired", err)
	}
	service.svc.now = time.Now

	// A node that does not own the asset refuses a code for it.
	msg, _ := json.Marshal(codeMsg{ID: newCodeID(), Asset: asset.Name, Code: "123456", Expires: time.Now().Add(time.Minute).Unix()})
	if _, err := other.svc.handleCode(ctx, service.peer.Net.ID(), msg); err == nil {
		t.Fatal("a node that does not own the asset took a code for it")
	}
	// Nobody receives codes for an unminted asset.
	if _, err := service.svc.RequestCode(ctx, mustAsset(t, "@nobody_owns")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("code for an unminted asset: %v, want ErrNotFound", err)
	}
}
