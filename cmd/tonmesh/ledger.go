package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	ledgersvc "github.com/tonmesh/tonmesh/ledger/service"
)

func (g *globalFlags) ledgerClient() (*ledgersvc.Client, error) {
	c, err := g.client()
	if err != nil {
		return nil, err
	}
	return ledgersvc.NewClient(c.Client), nil
}

func newLedgerCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ledger",
		Short: "The node's TON wallet: balance, transfers, history, faucet",
		Long: `ledger works with the running node's TON wallet (derived from its 24 words).
Amounts are in TON with up to 9 decimals ("1.5", "0.000000001").

On a testnet (ton.network = "emu") the first node hosts an emulated TON chain
that executes the real wallet code; the other nodes use it over the network,
and "ledger faucet" pays test TON. On mainnet/testnet this build has no
liteserver client yet: the ledger commands say so.`,
	}
	cmd.AddCommand(newLedgerBalanceCmd(g), newLedgerSendCmd(g), newLedgerHistoryCmd(g), newLedgerFaucetCmd(g), newLedgerDepositsCmd(g),
		newLedgerChannelsCmd(g), newLedgerChannelCmd(g), newLedgerJournalCmd(g), newLedgerAnchorsCmd(g), newLedgerVerifyCmd(g))
	return cmd
}

func newLedgerBalanceCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "balance [ADDRESS]",
		Short: "Show the wallet's address and balance (or any account's)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.ledgerClient()
			if err != nil {
				return err
			}
			b, err := c.Balance(cmd.Context(), args...)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(b)
			}
			table([][]string{
				{"address", b.Address},
				{"balance", b.Balance.TON + " TON"},
				{"wallet", b.Status + " on " + b.Network},
				{"deposits seen", b.Deposits.TON + " TON"},
			})
			return nil
		},
	}
	addJSONFlag(cmd, g)
	return cmd
}

func newLedgerSendCmd(g *globalFlags) *cobra.Command {
	var comment string
	cmd := &cobra.Command{
		Use:     "send ADDRESS AMOUNT",
		Short:   "Send TON to an address and wait until the chain confirms it",
		Example: "  tonmesh ledger send 0QBTvwxz-n8o-v1emMZfC32EYL_olrXJBqysNhiswSOBkYOX 1.5 --comment \"thanks\"",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.ledgerClient()
			if err != nil {
				return err
			}
			r, err := c.Send(cmd.Context(), ledgersvc.SendRequest{To: args[0], Amount: args[1], Comment: comment})
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(r)
			}
			fmt.Printf("sent %s TON to %s (fees %s TON, confirmed in %.2fs)\n", args[1], args[0], r.Fees.TON, r.Seconds)
			if r.Deployed {
				fmt.Println("this transfer also deployed your wallet contract")
			}
			fmt.Printf("transaction %s (lt %d)\n", r.TxHash, r.TxLT)
			return nil
		},
	}
	cmd.Flags().StringVar(&comment, "comment", "", "text comment carried with the transfer")
	addJSONFlag(cmd, g)
	return cmd
}

func newLedgerHistoryCmd(g *globalFlags) *cobra.Command {
	var limit int
	var before uint64
	cmd := &cobra.Command{
		Use:   "history",
		Short: "List the wallet's transactions, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.ledgerClient()
			if err != nil {
				return err
			}
			h, err := c.HistoryBefore(cmd.Context(), limit, before)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(h)
			}
			if len(h) == 0 {
				fmt.Println("no transactions yet (on a testnet: tonmesh ledger faucet)")
				return nil
			}
			rows := [][]string{{"TIME", "DIRECTION", "AMOUNT", "COUNTERPARTY", "FEES", "COMMENT"}}
			for _, e := range h {
				if e.In != nil && e.In.Kind == "internal" {
					rows = append(rows, []string{e.Time.Format("2006-01-02 15:04:05"), "in", "+" + e.In.Value.TON, e.In.From, e.Fees.TON, e.In.Comment})
				}
				for _, o := range e.Out {
					rows = append(rows, []string{e.Time.Format("2006-01-02 15:04:05"), "out", "-" + o.Value.TON, o.To, e.Fees.TON, o.Comment})
				}
			}
			table(rows)
			if len(h) == limit {
				fmt.Printf("older: tonmesh ledger history --before %d\n", h[len(h)-1].LT)
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 20, "how many transactions")
	cmd.Flags().Uint64Var(&before, "before", 0, "page: only transactions older than the one at this logical time (lt, from --json)")
	addJSONFlag(cmd, g)
	return cmd
}

func newLedgerFaucetCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "faucet [AMOUNT]",
		Short: "Get test TON from the emulated chain's faucet (testnet only; default 10)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			amount := "10"
			if len(args) == 1 {
				amount = args[0]
			}
			if _, err := strconv.ParseFloat(amount, 64); err != nil {
				return fmt.Errorf("AMOUNT %q is not a number of TON (example: 10 or 2.5)", amount)
			}
			c, err := g.ledgerClient()
			if err != nil {
				return err
			}
			b, err := c.Faucet(cmd.Context(), amount)
			if err != nil {
				return err
			}
			fmt.Printf("received %s TON from the faucet; balance %s TON\n", amount, b.Balance.TON)
			return nil
		},
	}
}

func newLedgerDepositsCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "deposits",
		Short: "List incoming transfers the node has recorded",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.ledgerClient()
			if err != nil {
				return err
			}
			d, err := c.Deposits(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(d)
			}
			rows := [][]string{{"TIME", "AMOUNT", "FROM", "COMMENT"}}
			for _, e := range d {
				rows = append(rows, []string{e.Time.Format("2006-01-02 15:04:05"), e.Amount.TON, e.From, e.Comment})
			}
			table(rows)
			return nil
		},
	}
	addJSONFlag(cmd, g)
	return cmd
}

func newLedgerJournalCmd(g *globalFlags) *cobra.Command {
	var after uint64
	cmd := &cobra.Command{
		Use:   "journal",
		Short: "List the node's settlements journal (hash-chained, anchored to TON)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.ledgerClient()
			if err != nil {
				return err
			}
			j, err := c.Journal(cmd.Context(), after)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(j)
			}
			rows := [][]string{{"SEQ", "TIME", "KIND", "AMOUNT", "KEY"}}
			for _, e := range j {
				rows = append(rows, []string{strconv.FormatUint(e.Seq, 10), e.Time, e.Kind, e.Amount.TON, e.Key})
			}
			table(rows)
			return nil
		},
	}
	cmd.Flags().Uint64Var(&after, "after", 0, "list entries after this sequence number")
	addJSONFlag(cmd, g)
	return cmd
}

func newLedgerAnchorsCmd(g *globalFlags) *cobra.Command {
	var now bool
	cmd := &cobra.Command{
		Use:   "anchors",
		Short: "List the journal's anchors on TON (--now anchors new entries at once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.ledgerClient()
			if err != nil {
				return err
			}
			if now {
				a, err := c.AnchorNow(cmd.Context())
				if err != nil {
					return err
				}
				fmt.Printf("anchored entries %d..%d (%s)\n", a.FromSeq+1, a.ToSeq, a.Status)
			}
			list, err := c.Anchors(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(list)
			}
			rows := [][]string{{"ID", "ENTRIES", "STATUS", "ROOT", "TX"}}
			for _, a := range list {
				rows = append(rows, []string{strconv.FormatUint(a.ID, 10), fmt.Sprintf("%d..%d", a.FromSeq+1, a.ToSeq), string(a.Status), fmt.Sprintf("%x", a.Root), fmt.Sprintf("%x", a.TxHash)})
			}
			table(rows)
			return nil
		},
	}
	cmd.Flags().BoolVar(&now, "now", false, "anchor the entries not yet anchored before listing")
	addJSONFlag(cmd, g)
	return cmd
}

func newLedgerVerifyCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify ENTRY_ID",
		Short: "Prove that a journal entry is included in an anchor committed to TON",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			seq, err := strconv.ParseUint(args[0], 10, 64)
			if err != nil {
				return fmt.Errorf("ENTRY_ID %q is not a journal sequence number (see `tonmesh ledger journal`)", args[0])
			}
			c, err := g.ledgerClient()
			if err != nil {
				return err
			}
			v, err := c.Verify(cmd.Context(), seq)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(v)
			}
			p := v.Proof
			fmt.Printf("entry %d (%s) is in anchor %d (entries %d..%d), root %x,\ncommitted on chain in transaction %x; Merkle path of %d hashes verified\n",
				seq, p.Record.Kind, p.Anchor.ID, p.Anchor.FromSeq+1, p.Anchor.ToSeq, p.Root, p.Anchor.TxHash, len(p.Path))
			return nil
		},
	}
	addJSONFlag(cmd, g)
	return cmd
}
