// Command tonmesh is the tonmesh node daemon and its command-line client.
//
// The daemon (`tonmesh daemon`) runs a node; every other command except
// `init` and `testnet` talks to a running daemon through its local HTTP API.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCmd()
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		var ee exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		os.Exit(1)
	}
}

// exitError carries a specific exit status.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

// globalFlags are the flags every command understands.
type globalFlags struct {
	home  string
	api   string
	token string
	json  bool
}

func newRootCmd() *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:   "tonmesh",
		Short: "A peer-to-peer node: identity vault, name market, confidential AI compute and chat, settled on TON",
		Long: `tonmesh runs a node of a peer-to-peer network. Every participant runs it; together
the nodes offer an identity-document vault, a market for usernames and numbers,
confidential AI compute and end-to-end encrypted chat, with money settled on TON.

Start here:
  tonmesh testnet                 run a local 5-node network (nothing to set up)
  tonmesh init                    create a node home (~/.tonmesh) with a new 24-word identity
  tonmesh daemon                  run the node in that home
  tonmesh id / tonmesh peers      ask the running node who it is and whom it sees
  tonmesh ui                      open the node's web app in your browser, logged in
  tonmesh ledger balance          the node's TON wallet (send, channels, journal: tonmesh ledger)
  tonmesh chat send TO TEXT       end-to-end encrypted messages (tonmesh chat)
  tonmesh passport add TYPE …     identity documents, encrypted and spread over peers;
                                  shared with services field by field (tonmesh passport)
  tonmesh compute infer --model M PROMPT
                                  confidential AI inference, paid per token; apps use the
                                  OpenAI API at <api>/v1 with the API token as key
  tonmesh market list             auctions of usernames and +888 numbers (tonmesh market)

One 24-word TON mnemonic is the root of a node: the same words restore the same
TON wallet in Tonkeeper and the same node identity on another machine.

Client commands find the daemon through --home (default $TONMESH_HOME, else
~/.tonmesh: the daemon writes its API URL to HOME/api.url and its token is in
HOME/api.token) or through --api URL and --token TOKEN (or $TONMESH_API and
$TONMESH_TOKEN). Read commands take --json for machine-readable output.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.home, "home", "", "node home directory (default $TONMESH_HOME, else ~/.tonmesh)")
	pf.StringVar(&g.api, "api", os.Getenv("TONMESH_API"), "API URL of a running daemon, e.g. http://127.0.0.1:5080 (default from HOME/api.url)")
	pf.StringVar(&g.token, "token", os.Getenv("TONMESH_TOKEN"), "API bearer token (default from HOME/api.token)")
	root.AddCommand(
		newInitCmd(g),
		newDaemonCmd(g),
		newIDCmd(g),
		newPeersCmd(g),
		newTestnetCmd(g),
		newLedgerCmd(g),
		newChatCmd(g),
		newPassportCmd(g),
		newComputeCmd(g),
		newMarketCmd(g),
		newUICmd(g),
		newVersionCmd(g),
	)
	return root
}

func addJSONFlag(cmd *cobra.Command, g *globalFlags) {
	cmd.Flags().BoolVar(&g.json, "json", false, "print JSON instead of a table")
}
