package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/tonmesh/tonmesh/testnet"
)

func newTestnetCmd(g *globalFlags) *cobra.Command {
	var o testnet.Options
	cmd := &cobra.Command{
		Use:   "testnet",
		Short: "Run a local multi-node network on 127.0.0.1 until Ctrl-C",
		Long: `testnet starts --nodes daemons as separate processes, each with its own home
under --dir (default: a new temporary directory, printed), all bootstrapped to
the first node. Once every node has DHT peers it prints a table of the nodes
with the address of each node's web app (log in with tonmesh --home HOME ui)
and writes DIR/testnet.json (name, home, api, web, token, peer_id, address of
each node): scripts can wait for that file. Ctrl-C (SIGINT) or SIGTERM stops every
node and exits 0. Running again with the same --dir resumes the same network:
same identities, ports and data.`,
		Example: `  tonmesh testnet
  tonmesh testnet --nodes 3 --dir ./tn --base-port 4100`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Out = os.Stdout
			return testnet.Run(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Nodes, "nodes", 5, "number of nodes")
	f.StringVar(&o.Dir, "dir", "", "directory for the nodes' homes (default: a new temporary directory)")
	f.IntVar(&o.BasePort, "base-port", 0, "node i uses port P+2i for p2p (TCP and QUIC) and P+2i+1 for its API (default 0: free ports, chosen once)")
	f.StringVar(&o.Fund, "fund", "100", "TON the faucet pays each new node's wallet (0: none)")
	f.DurationVar(&o.Ready, "ready-timeout", 0, "how long to wait for the network to come up (default 90s)")
	return cmd
}
