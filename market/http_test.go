package market

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/internal/apiutil"
	"github.com/tonmesh/tonmesh/ledger/journal"
	"github.com/tonmesh/tonmesh/market/onchain"
)

func apiClient(t *testing.T, s *Service) (*Client, *apiutil.Client) {
	t.Helper()
	mux := http.NewServeMux()
	s.Routes(func(pattern string, h http.Handler) { mux.Handle(pattern, h) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	raw := apiutil.NewClient(srv.URL, "")
	return NewClient(raw), raw
}

// TestHTTP drives every route through the Client on two nodes: node 0 is
// the registry, node 1 a user.
func TestHTTP(t *testing.T) {
	c := startCluster(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	reg, user := c.nodes[0], c.nodes[1]
	c.fund(reg, tons(5))
	c.fund(user, tons(30))
	regAPI, _ := apiClient(t, reg.svc)
	api, raw := apiClient(t, user.svc)
	status := func(what string, err error, want int) {
		t.Helper()
		if !apiutil.IsStatus(err, want) {
			t.Fatalf("%s: %v, want HTTP %d", what, err, want)
		}
	}

	_, err := api.Mint(ctx, "@http_user", "")
	status("mint on a non-registry node", err, http.StatusForbidden)
	if _, err := regAPI.Mint(ctx, "@http_user", fmtAddr(user.addr)); err != nil {
		t.Fatal(err)
	}
	_, err = regAPI.Mint(ctx, "@http_user", "")
	status("second mint", err, http.StatusConflict)
	_, err = regAPI.Mint(ctx, "@x", "")
	status("too short a username", err, http.StatusBadRequest)

	_, err = api.StartAuction(ctx, StartRequest{Asset: "@http_user", Min: "-1"})
	status("negative minimum", err, http.StatusBadRequest)
	_, err = api.StartAuction(ctx, StartRequest{Asset: "@http_user", Min: "5", Extension: "8d"})
	status("extension over 7 days", err, http.StatusBadRequest)
	status("unknown field", raw.Post(ctx, "/api/v1/market/auctions", map[string]string{"asset": "@http_user", "min": "5", "minimum": "5"}, nil), http.StatusBadRequest)
	_, err = regAPI.StartAuction(ctx, StartRequest{Asset: "@http_user", Min: "5"})
	status("auction by a non-owner", err, http.StatusForbidden)
	a, err := api.StartAuction(ctx, StartRequest{Asset: "@http_user", Min: "5", Duration: "1h", BuyNow: "50"})
	if err != nil {
		t.Fatal(err)
	}
	if a.MinNextBid.TON != "5" || a.BuyNow == nil || a.BuyNow.TON != "50" || a.StepPercent != onchain.DefaultStepPercent || a.Extension != "1h0m0s" {
		t.Fatalf("started auction %+v", a)
	}
	list, err := regAPI.Auctions(ctx)
	if err != nil || len(list) != 0 && list[0].Asset != "@http_user" {
		t.Fatalf("registry's auctions = %+v, %v", list, err)
	}
	_, err = regAPI.Bid(ctx, "@http_user", "4.5")
	status("bid below the minimum", err, http.StatusBadRequest)
	_, err = regAPI.Bid(ctx, "@http_user", "lots")
	status("bid that is not an amount", err, http.StatusBadRequest)
	_, err = api.Settle(ctx, "@http_user")
	status("settle before the end", err, http.StatusConflict)
	_, err = api.Transfer(ctx, "@http_user", fmtAddr(reg.addr))
	status("transfer during an auction", err, http.StatusConflict)
	info, err := api.Cancel(ctx, "@http_user")
	if err != nil || info.Auction != nil {
		t.Fatalf("cancel: %+v, %v", info, err)
	}

	show, err := regAPI.Show(ctx, "http_user")
	if err != nil || !show.Minted || show.Owner != fmtAddr(user.addr) {
		t.Fatalf("show: %+v, %v", show, err)
	}
	_, err = api.Show(ctx, "@no")
	status("show of an invalid asset", err, http.StatusBadRequest)
	res, err := regAPI.Resolve(ctx, fmtAddr(user.addr))
	if err != nil || len(res.Assets) != 1 || res.Assets[0].Asset != "@http_user" {
		t.Fatalf("resolve the user's address: %+v, %v", res, err)
	}
	res, err = api.Resolve(ctx, "@http_user")
	if err != nil || res.Owner != fmtAddr(user.addr) {
		t.Fatalf("resolve the asset: %+v, %v", res, err)
	}
	_, err = api.Resolve(ctx, "no way!")
	status("resolve of nonsense", err, http.StatusBadRequest)

	bought, err := api.BuyNumber(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(bought.Asset, "+888 ") || bought.Owner != fmtAddr(user.addr) {
		t.Fatalf("bought %+v", bought)
	}
	var sale bool
	for _, e := range user.ledger.recorded() {
		sale = sale || e.Kind == journal.KindSale && e.Amount.Cmp(tons(-9)) == 0
	}
	if !sale {
		t.Errorf("the purchase was not journaled as a sale of -9 TON: %+v", user.ledger.recorded())
	}
	mine, err := api.Mine(ctx)
	if err != nil || len(mine) != 2 {
		t.Fatalf("mine = %+v, %v", mine, err)
	}
	if _, err := api.Transfer(ctx, "@http_user", fmtAddr(reg.addr)); err != nil {
		t.Fatal(err)
	}
	if mine, _ := api.Mine(ctx); len(mine) != 1 {
		t.Fatalf("after the transfer, mine = %+v", mine)
	}
	_, err = api.Transfer(ctx, "@http_user", fmtAddr(reg.addr))
	status("transfer of someone else's asset", err, http.StatusForbidden)

	_, err = api.VerifyCode(ctx, "00112233445566778899aabbccddeeff", "123456")
	status("verify an unknown code", err, http.StatusNotFound)
	codes, err := api.Codes(ctx)
	if err != nil || len(codes) != 0 {
		t.Fatalf("codes = %+v, %v", codes, err)
	}
	_, err = regAPI.RequestCode(ctx, "@never_minted")
	status("code for an unminted asset", err, http.StatusNotFound)
}
