package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/tonmesh/tonmesh/market"
)

func (g *globalFlags) marketClient() (*market.Client, error) {
	c, err := g.client()
	if err != nil {
		return nil, err
	}
	return market.NewClient(c.Client), nil
}

func newMarketCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "market",
		Short: "Usernames and +888 numbers: auctions, fixed-price numbers, login codes",
		Long: `market trades usernames (@name: 5 to 32 of a-z, 0-9 and _, starting with a
letter) and anonymous numbers (+888 XXXX XXXX). Each is an item contract on TON
minted by the network's registry; ownership is what the chain says.

Auctions run in the item's contract: a minimum bid, a minimum step (default 5 %,
and at least 1 TON over the leading bid), a duration and an anti-sniping
extension (default 1h: a late bid moves the end to one hour after it), and an
optional buy-now price. An outbid bidder is refunded in the same transaction; at
the end the network fee goes to the registry and the rest to the seller.

Bids travel on gossip as the bidder's signed wallet order, so every node shows
the leading bid within a second and any node can relay the bid to the chain.
Amounts are in TON ("12.5").

Whoever owns a number or username receives its login codes: a service asks
with "market login-code", the code is delivered end-to-end encrypted to the
owner's node only, and the owner reads it with "market codes".`,
		Example: `  tonmesh market buy-number
  tonmesh market auction start @alice --min 10 --duration 24h
  tonmesh market list
  tonmesh market bid @alice 12
  tonmesh market show @alice --json
  tonmesh market settle @alice
  tonmesh market login-code "+888 1234 5678"
  tonmesh market codes`,
	}
	cmd.AddCommand(newMarketListCmd(g), newMarketShowCmd(g), newMarketAuctionCmd(g), newMarketBidCmd(g),
		newMarketCancelCmd(g), newMarketSettleCmd(g), newMarketBuyNumberCmd(g), newMarketAssetsCmd(g),
		newMarketTransferCmd(g), newMarketResolveCmd(g), newMarketMintCmd(g), newMarketLoginCodeCmd(g),
		newMarketVerifyCodeCmd(g), newMarketCodesCmd(g))
	return cmd
}

// marketRun is the shape of every market verb: call the API, then print the
// result as JSON or as text.
func marketRun[T any](g *globalFlags, call func(cmd *cobra.Command, c *market.Client, args []string) (T, error), show func(T)) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		c, err := g.marketClient()
		if err != nil {
			return err
		}
		v, err := call(cmd, c, args)
		if err != nil {
			return err
		}
		if g.json {
			return printJSON(v)
		}
		show(v)
		return nil
	}
}

func newMarketListCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Open auctions with their leading bid and time left",
		Args:  cobra.NoArgs,
		RunE: marketRun(g, func(cmd *cobra.Command, c *market.Client, _ []string) ([]market.AuctionInfo, error) {
			return c.Auctions(cmd.Context())
		}, func(as []market.AuctionInfo) {
			if len(as) == 0 {
				fmt.Println("no open auctions (start one with `tonmesh market auction start ASSET --min AMOUNT`)")
				return
			}
			rows := [][]string{{"ASSET", "LEADING BID", "MIN NEXT", "BIDS", "TIME LEFT", "LEADER"}}
			for _, a := range as {
				rows = append(rows, []string{a.Asset, leadingBid(&a), a.MinNextBid.TON, strconv.Itoa(a.Bids), timeLeft(&a), a.Leader})
			}
			table(rows)
		}),
	}
	addJSONFlag(cmd, g)
	return cmd
}

func leadingBid(a *market.AuctionInfo) string {
	if a.LeadingBid == nil {
		return "-"
	}
	s := a.LeadingBid.TON + " TON"
	if !a.Confirmed {
		s += " (gossip)"
	}
	return s
}

func timeLeft(a *market.AuctionInfo) string {
	if a.Ended {
		return "ended, awaiting settle"
	}
	return a.TimeLeft
}

func showAsset(a *market.AssetInfo) {
	rows := [][]string{{"asset", a.Asset}, {"item", a.Item}}
	if !a.Minted {
		rows = append(rows, []string{"owner", "nobody (not minted)"})
	} else {
		rows = append(rows, []string{"owner", a.Owner})
	}
	if au := a.Auction; au != nil {
		rows = append(rows,
			[]string{"auction", "open, " + timeLeft(au) + " (ends " + au.Ends + ")"},
			[]string{"leading bid", leadingBid(au)},
			[]string{"leader", au.Leader},
			[]string{"min next bid", au.MinNextBid.TON + " TON"},
			[]string{"step", strconv.Itoa(int(au.StepPercent)) + " % (at least 1 TON)"},
			[]string{"extension", au.Extension},
		)
		if au.BuyNow != nil {
			rows = append(rows, []string{"buy now", au.BuyNow.TON + " TON"})
		}
	}
	if r := a.LastResult; r != nil {
		if r.Sold && r.Price != nil {
			rows = append(rows, []string{"last auction", "sold to " + r.Winner + " for " + r.Price.TON + " TON"})
		} else {
			rows = append(rows, []string{"last auction", "ended without bids"})
		}
	}
	table(rows)
}

func newMarketShowCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "show ASSET",
		Short: "An asset's owner on chain, its auction and its last result",
		Args:  cobra.ExactArgs(1),
		RunE: marketRun(g, func(cmd *cobra.Command, c *market.Client, args []string) (*market.AssetInfo, error) {
			return c.Show(cmd.Context(), args[0])
		}, showAsset),
	}
	addJSONFlag(cmd, g)
	return cmd
}

func newMarketAuctionCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "auction", Short: "Start auctions of assets you own"}
	var req market.StartRequest
	start := &cobra.Command{
		Use:   "start ASSET --min AMOUNT",
		Short: "Put ASSET up for auction (you must own it)",
		Args:  cobra.ExactArgs(1),
		RunE: marketRun(g, func(cmd *cobra.Command, c *market.Client, args []string) (*market.AuctionInfo, error) {
			req.Asset = args[0]
			return c.StartAuction(cmd.Context(), req)
		}, func(a *market.AuctionInfo) {
			fmt.Printf("auction of %s open until %s; first bid at least %s TON\n", a.Asset, a.Ends, a.MinNextBid.TON)
		}),
	}
	start.Flags().StringVar(&req.Min, "min", "", "minimum first bid in TON (required)")
	start.Flags().Uint8Var(&req.Step, "step", 0, "minimum step over the leading bid, percent (default 5; never less than 1 TON)")
	start.Flags().StringVar(&req.Duration, "duration", "", `how long bidding runs: "7d", "24h", "90m" (default 7d)`)
	start.Flags().StringVar(&req.Extension, "extension", "", `anti-sniping: a bid this close to the end moves the end this far after it (default 1h)`)
	start.Flags().StringVar(&req.BuyNow, "buy-now", "", "a bid of this many TON ends the auction at once (optional)")
	start.MarkFlagRequired("min")
	addJSONFlag(start, g)
	cmd.AddCommand(start)
	return cmd
}

func newMarketBidCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bid ASSET AMOUNT",
		Short: "Bid AMOUNT TON on ASSET's open auction",
		Args:  cobra.ExactArgs(2),
		RunE: marketRun(g, func(cmd *cobra.Command, c *market.Client, args []string) (*market.AuctionInfo, error) {
			return c.Bid(cmd.Context(), args[0], args[1])
		}, func(a *market.AuctionInfo) {
			fmt.Printf("bid placed: %s leads %s at %s TON; auction ends %s\n", a.Leader, a.Asset, leadingBid(a), a.Ends)
		}),
	}
	addJSONFlag(cmd, g)
	return cmd
}

func assetVerb(g *globalFlags, use, short string, call func(c *market.Client, cmd *cobra.Command, asset string) (*market.AssetInfo, error)) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use + " ASSET",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: marketRun(g, func(cmd *cobra.Command, c *market.Client, args []string) (*market.AssetInfo, error) {
			return call(c, cmd, args[0])
		}, showAsset),
	}
	addJSONFlag(cmd, g)
	return cmd
}

func newMarketCancelCmd(g *globalFlags) *cobra.Command {
	return assetVerb(g, "cancel", "Cancel your auction of ASSET (only while nobody has bid)", func(c *market.Client, cmd *cobra.Command, a string) (*market.AssetInfo, error) {
		return c.Cancel(cmd.Context(), a)
	})
}

func newMarketSettleCmd(g *globalFlags) *cobra.Command {
	return assetVerb(g, "settle", "Settle ASSET's ended auction: asset to the winner, proceeds to the seller", func(c *market.Client, cmd *cobra.Command, a string) (*market.AssetInfo, error) {
		return c.Settle(cmd.Context(), a)
	})
}

func newMarketBuyNumberCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "buy-number",
		Short: "Buy a random unassigned +888 number at the network's fixed price",
		Args:  cobra.NoArgs,
		RunE: marketRun(g, func(cmd *cobra.Command, c *market.Client, _ []string) (*market.AssetInfo, error) {
			return c.BuyNumber(cmd.Context())
		}, func(a *market.AssetInfo) {
			fmt.Printf("you own %s (item %s)\n", a.Asset, a.Item)
		}),
	}
	addJSONFlag(cmd, g)
	return cmd
}

func newMarketAssetsCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "assets",
		Short: "The usernames and numbers this node's wallet owns",
		Args:  cobra.NoArgs,
		RunE: marketRun(g, func(cmd *cobra.Command, c *market.Client, _ []string) ([]market.AssetInfo, error) {
			return c.Mine(cmd.Context())
		}, func(as []market.AssetInfo) {
			if len(as) == 0 {
				fmt.Println("this wallet owns no usernames or numbers (try `tonmesh market buy-number`)")
				return
			}
			rows := [][]string{{"ASSET", "ITEM", "AUCTION"}}
			for _, a := range as {
				state := "-"
				if a.Auction != nil {
					state = "open, " + timeLeft(a.Auction)
				}
				rows = append(rows, []string{a.Asset, a.Item, state})
			}
			table(rows)
		}),
	}
	addJSONFlag(cmd, g)
	return cmd
}

func newMarketTransferCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "transfer ASSET ADDRESS",
		Short: "Give ASSET to the TON address ADDRESS (not during an auction)",
		Args:  cobra.ExactArgs(2),
		RunE: marketRun(g, func(cmd *cobra.Command, c *market.Client, args []string) (*market.AssetInfo, error) {
			return c.Transfer(cmd.Context(), args[0], args[1])
		}, showAsset),
	}
	addJSONFlag(cmd, g)
	return cmd
}

func newMarketResolveCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "resolve ASSET|ADDRESS",
		Short: "Who owns ASSET, or which assets ADDRESS owns",
		Args:  cobra.ExactArgs(1),
		RunE: marketRun(g, func(cmd *cobra.Command, c *market.Client, args []string) (*market.ResolveResult, error) {
			return c.Resolve(cmd.Context(), args[0])
		}, func(r *market.ResolveResult) {
			if r.Asset != nil {
				if !r.Asset.Minted {
					fmt.Printf("%s is not minted: nobody owns it\n", r.Asset.Asset)
					return
				}
				fmt.Printf("%s is owned by %s\n", r.Asset.Asset, r.Asset.Owner)
				return
			}
			if len(r.Assets) == 0 {
				fmt.Printf("%s owns no assets this node knows of\n", r.Query)
				return
			}
			for _, a := range r.Assets {
				fmt.Println(a.Asset)
			}
		}),
	}
	addJSONFlag(cmd, g)
	return cmd
}

func newMarketMintCmd(g *globalFlags) *cobra.Command {
	var owner string
	cmd := &cobra.Command{
		Use:   "mint ASSET",
		Short: "Mint ASSET (registry node only), to this wallet or --owner",
		Args:  cobra.ExactArgs(1),
		RunE: marketRun(g, func(cmd *cobra.Command, c *market.Client, args []string) (*market.AssetInfo, error) {
			return c.Mint(cmd.Context(), args[0], owner)
		}, showAsset),
	}
	cmd.Flags().StringVar(&owner, "owner", "", "TON address that receives the asset (default: the registry's wallet)")
	addJSONFlag(cmd, g)
	return cmd
}

func newMarketLoginCodeCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "login-code ASSET",
		Short: "As a service: send a one-time login code to ASSET's owner",
		Long: `login-code sends a one-time code to the node of whoever owns ASSET on chain, and
nowhere else. Ask the user for the code they read with "tonmesh market codes"
and check it with "tonmesh market verify-code ID CODE": a code works once and
expires (market.code_ttl).`,
		Args: cobra.ExactArgs(1),
		RunE: marketRun(g, func(cmd *cobra.Command, c *market.Client, args []string) (*market.CodeRequest, error) {
			return c.RequestCode(cmd.Context(), args[0])
		}, func(r *market.CodeRequest) {
			fmt.Printf("code sent to the owner of %s (node %s); it expires %s\n", r.Asset, r.DeliveredTo, r.Expires)
			fmt.Printf("check what the user gives you: tonmesh market verify-code %s CODE\n", r.ID)
		}),
	}
	addJSONFlag(cmd, g)
	return cmd
}

func newMarketVerifyCodeCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify-code ID CODE",
		Short: "As a service: check a login code the user gave you (works once)",
		Args:  cobra.ExactArgs(2),
		RunE: marketRun(g, func(cmd *cobra.Command, c *market.Client, args []string) (*market.CodeCheck, error) {
			return c.VerifyCode(cmd.Context(), args[0], args[1])
		}, func(r *market.CodeCheck) {
			fmt.Printf("valid: the user controls %s (owner %s)\n", r.Asset, r.Owner)
		}),
	}
	addJSONFlag(cmd, g)
	return cmd
}

// localTime shows an RFC 3339 time from the API in local time, to the second.
func localTime(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.Local().Format(time.DateTime)
}

func newMarketCodesCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "codes",
		Short: "As an owner: login codes received for your numbers and usernames",
		Args:  cobra.NoArgs,
		RunE: marketRun(g, func(cmd *cobra.Command, c *market.Client, _ []string) ([]market.ReceivedCode, error) {
			return c.Codes(cmd.Context())
		}, func(cs []market.ReceivedCode) {
			if len(cs) == 0 {
				fmt.Println("no login codes received")
				return
			}
			rows := [][]string{{"ASSET", "CODE", "FROM", "RECEIVED", "EXPIRES"}}
			for _, c := range cs {
				exp := c.Expires
				if c.Expired {
					exp = "expired"
				}
				rows = append(rows, []string{c.Asset, c.Code, c.From, localTime(c.Received), localTime(exp)})
			}
			table(rows)
		}),
	}
	addJSONFlag(cmd, g)
	return cmd
}
