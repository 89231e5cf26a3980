package webui

import "net/http"

type auctionView struct {
	Asset       string  `json:"asset"`
	Seller      string  `json:"seller"`
	Leader      string  `json:"leader"`
	LeadingBid  *amount `json:"leading_bid"`
	MinNextBid  amount  `json:"min_next_bid"`
	MinBid      amount  `json:"min_bid"`
	BuyNow      *amount `json:"buy_now"`
	StepPercent uint8   `json:"step_percent"`
	Bids        int     `json:"bids"`
	Ends        string  `json:"ends"`
	TimeLeft    string  `json:"time_left"`
	Ended       bool    `json:"ended"`
	Confirmed   bool    `json:"confirmed"`
}

type assetView struct {
	Asset   string       `json:"asset"`
	Owner   string       `json:"owner"`
	Auction *auctionView `json:"auction"`
}

type codeView struct {
	ID      string `json:"id"`
	Asset   string `json:"asset"`
	Code    string `json:"code"`
	From    string `json:"from"`
	Expires string `json:"expires"`
	Expired bool   `json:"expired"`
}

type marketView struct {
	Auctions []auctionView
	Mine     []assetView
	Codes    []codeView
	Address  string
}

func (s *Server) marketData(r *http.Request) (any, error) {
	ctx := r.Context()
	var v marketView
	var id idView
	e1 := s.get(ctx, "/api/v1/market/auctions", &v.Auctions)
	// Mine and the codes read the chain: a market still deploying shows
	// the auctions.
	_ = s.get(ctx, "/api/v1/market/mine", &v.Mine)
	_ = s.get(ctx, "/api/v1/market/codes", &v.Codes)
	_ = s.get(ctx, "/api/v1/id", &id)
	v.Address = id.Address
	return v, e1
}
