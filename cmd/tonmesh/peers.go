package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func newPeersCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "peers",
		Short: "List the peers the running node is connected to",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			peers, err := c.Peers(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(peers)
			}
			if len(peers) == 0 {
				fmt.Println("no peers connected (check p2p.bootstrap in config.toml)")
				return nil
			}
			rows := [][]string{{"PEER ID", "LATENCY", "ADDRESSES"}}
			for _, p := range peers {
				rows = append(rows, []string{p.PeerID, fmt.Sprintf("%.2f ms", p.LatencyMS), strings.Join(p.Addrs, " ")})
			}
			table(rows)
			return nil
		},
	}
	addJSONFlag(cmd, g)
	return cmd
}
