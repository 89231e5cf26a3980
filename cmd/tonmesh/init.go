package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tonmesh/tonmesh/config"
	"github.com/tonmesh/tonmesh/node"
	"github.com/tonmesh/tonmesh/p2p/identity"
)

func newInitCmd(g *globalFlags) *cobra.Command {
	var mnemonicFile, profile string
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create a node home: config, a 24-word identity (or a restored one) and an API token",
		Long: `init creates a node home (--home, default $TONMESH_HOME, else ~/.tonmesh) holding:
  config.toml        commented configuration (profile "server" or "testnet")
  keystore/mnemonic  the 24 words everything is derived from (mode 0600)
  api.token          the bearer token of the local HTTP API (mode 0600)

Without --mnemonic-file a new identity is generated and its 24 words are printed
once: write them down. They restore the same TON wallet in Tonkeeper (wallet v5r1)
and this node's identity on another machine (init --mnemonic-file FILE).
init never overwrites an existing home.`,
		Example: `  tonmesh init
  tonmesh init --home /srv/tonmesh --profile server
  tonmesh init --home ./n1 --mnemonic-file words.txt`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := g.resolveHome()
			if err != nil {
				return err
			}
			var words []string
			if mnemonicFile != "" {
				data, err := os.ReadFile(mnemonicFile)
				if err != nil {
					return fmt.Errorf("read --mnemonic-file: %w", err)
				}
				if words, err = identity.ParseMnemonic(string(data)); err != nil {
					return fmt.Errorf("--mnemonic-file %s: %w", mnemonicFile, err)
				}
			}
			res, err := node.Init(h, node.InitOptions{Profile: profile, Mnemonic: words})
			if err != nil {
				return err
			}
			fmt.Printf("initialised tonmesh home %s (profile %s)\n\n", h, profile)
			table([][]string{
				{"peer id", res.Identity.PeerID().String()},
				{"address", res.WalletAddr},
				{"address (raw)", res.RawAddr},
				{"wallet", res.Config.TON.WalletVersion + " on " + res.Config.TON.Network},
			})
			if res.NewWords {
				fmt.Printf("\nYour 24 secret words (shown only now; they are also in %s):\n\n", h.MnemonicPath())
				for i := 0; i < len(res.Identity.Mnemonic); i += 6 {
					var line []string
					for j := i; j < i+6 && j < len(res.Identity.Mnemonic); j++ {
						line = append(line, fmt.Sprintf("%2d. %-9s", j+1, res.Identity.Mnemonic[j]))
					}
					fmt.Println("  " + strings.Join(line, " "))
				}
				fmt.Println("\nWrite them down and keep them offline: whoever has them controls this wallet and identity.")
			}
			if profile == config.ProfileServer {
				fmt.Printf("\nOn a server: open TCP and UDP port 4001 (p2p.listen) to the internet; keep the API\n"+
					"(%s) local. Behind NAT, set p2p.reachability = \"private\" and list relays in\n"+
					"p2p.static_relays; see \"Running a node on a server\" in the README.\n", res.Config.API.Listen)
			}
			fmt.Printf("\nNext: tonmesh daemon --home %s\n", h)
			return nil
		},
	}
	cmd.Flags().StringVar(&mnemonicFile, "mnemonic-file", "", "restore the identity from the 24 words in this file instead of generating new ones")
	cmd.Flags().StringVar(&profile, "profile", config.ProfileServer, "config profile: server (public node on port 4001) or testnet (loopback, emulated chain)")
	return cmd
}
