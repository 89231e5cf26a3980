package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func newIDCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "id",
		Short: "Show the running node's peer ID, addresses, TON wallet address and public keys",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			info, err := c.ID(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(info)
			}
			table([][]string{
				{"name", info.Name},
				{"peer id", info.PeerID},
				{"address", info.Address},
				{"address (raw)", info.AddressRaw},
				{"wallet", info.WalletVersion + " on " + info.Network},
				{"wallet key", info.PublicKeys.Wallet},
				{"peer key", info.PublicKeys.Peer},
				{"encryption key", info.PublicKeys.Encryption},
				{"listening on", strings.Join(info.Addrs, "\n               ")},
			})
			return nil
		},
	}
	addJSONFlag(cmd, g)
	return cmd
}

func newVersionCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the tonmesh version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, args []string) {
			fmt.Println("tonmesh", nodeVersion())
		},
	}
}
