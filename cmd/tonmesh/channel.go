package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	ledgersvc "github.com/tonmesh/tonmesh/ledger/service"
)

func newLedgerChannelsCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "channels",
		Short: "List the payment channels this node pays into or is paid through",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.ledgerClient()
			if err != nil {
				return err
			}
			list, err := c.Channels(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(list)
			}
			if len(list) == 0 {
				fmt.Println("no payment channels (open one with: tonmesh ledger channel open PEER AMOUNT)")
				return nil
			}
			rows := [][]string{{"ID", "ROLE", "STATUS", "DEPOSITED", "PAID", "REDEEMED", "COUNTERPARTY"}}
			for _, ch := range list {
				status := ch.Status
				if ch.Deadline != nil {
					status += " until " + ch.Deadline.Local().Format("15:04:05")
				}
				rows = append(rows, []string{ch.ID, ch.Role, status, ch.Deposited.TON, ch.Paid.TON, ch.Redeemed.TON, ch.Counterparty})
			}
			table(rows)
			return nil
		},
	}
	addJSONFlag(cmd, g)
	return cmd
}

func newLedgerChannelCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "channel",
		Short: "Open, pay through, top up, redeem and close one-way payment channels",
		Long: `A payment channel is a contract holding the payer's deposit. The payer pays
off-chain with vouchers (signed cumulative totals) sent to the payee's node,
which keeps the highest one durably; the payee redeems on chain whenever it
likes. While the channel is open the payer can top its deposit up, so that
vouchers can go higher. The payer closes the channel; during its timeout the
payee can still redeem; then finalize refunds the rest to the payer.`,
		Example: `  tonmesh ledger channel open 12D3KooW… 10 --timeout 1h   # as payer
  tonmesh ledger channel pay EQ… 0.25                        # as payer, any number of times
  tonmesh ledger channel topup EQ… 5                         # as payer: 5 TON more deposited
  tonmesh ledger channel redeem EQ…                          # as payee
  tonmesh ledger channel close EQ…                           # as payer
  tonmesh ledger channel finalize EQ…                        # after the timeout`,
	}
	var timeout time.Duration
	open := &cobra.Command{
		Use:   "open PEER AMOUNT",
		Short: "Deploy a channel to the peer's wallet with AMOUNT TON deposited",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.ledgerClient()
			if err != nil {
				return err
			}
			r, err := c.OpenChannel(cmd.Context(), ledgersvc.OpenChannelRequest{Peer: args[0], Amount: args[1], TimeoutS: int64(timeout / time.Second)})
			if err != nil {
				return err
			}
			fmt.Printf("opened channel %s with %s TON deposited\n", r.ID, r.Amount.TON)
			return nil
		},
	}
	open.Flags().DurationVar(&timeout, "timeout", time.Hour, "how long after a close the payee can still redeem")
	cmd.AddCommand(open,
		channelActionCmd(g, "pay ID AMOUNT", "Send the payee a voucher for AMOUNT TON more", "pay", 2),
		channelActionCmd(g, "topup ID AMOUNT", "Add AMOUNT TON to the channel's deposit (payer)", "topup", 2),
		channelActionCmd(g, "redeem ID", "Redeem the highest voucher received (payee)", "redeem", 1),
		channelActionCmd(g, "close ID", "Start the close timeout (payer)", "close", 1),
		channelActionCmd(g, "finalize ID", "After the timeout, refund the rest to the payer and end the channel", "finalize", 1),
	)
	return cmd
}

func channelActionCmd(g *globalFlags, use, short, action string, nargs int) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(nargs),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.ledgerClient()
			if err != nil {
				return err
			}
			amount := ""
			if nargs == 2 {
				amount = args[1]
			}
			r, err := c.ChannelAction(cmd.Context(), args[0], action, amount)
			if err != nil {
				return err
			}
			switch action {
			case "pay":
				fmt.Printf("paid %s TON; %s TON in total through %s\n", amount, r.Amount.TON, r.ID)
			case "topup":
				fmt.Printf("topped up %s TON; %s TON deposited in %s\n", amount, r.Amount.TON, r.ID)
			case "redeem":
				fmt.Printf("redeemed the voucher for %s TON on %s\n", r.Amount.TON, r.ID)
			default:
				fmt.Printf("%s sent for %s\n", action, r.ID)
			}
			return nil
		},
	}
}
