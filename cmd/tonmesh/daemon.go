package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/tonmesh/tonmesh/config"
	"github.com/tonmesh/tonmesh/node"
)

const shutdownTimeout = 20 * time.Second

func newDaemonCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "daemon",
		Short: "Run the node in the foreground until SIGINT or SIGTERM",
		Long: `daemon runs the node of the home (--home) in the foreground: it joins the network
from the bootstrap peers in config.toml and serves the local HTTP API. On
SIGINT or SIGTERM it stops gracefully: the API stops first, the store is
closed last, and no acknowledged write is lost.

Logs go to stderr (log.level and log.format in config.toml). Config keys can be
overridden with TONMESH_<SECTION>_<KEY>, e.g. TONMESH_API_LISTEN=127.0.0.1:5081.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := g.resolveHome()
			if err != nil {
				return err
			}
			cfg, err := h.LoadConfig()
			if err != nil {
				return err
			}
			log, err := setupLogging(os.Stderr, cfg.Log)
			if err != nil {
				return err
			}
			for _, name := range config.UnknownEnv(os.Environ()) {
				log.Warn("ignoring unknown environment variable (not a config key; see config.toml for the names)", "name", name)
			}
			n, err := node.New(cfg, node.WithHome(h), node.WithLogger(log))
			if err != nil {
				return err
			}
			if err := n.Start(cmd.Context()); err != nil {
				n.Stop(context.Background())
				return err
			}
			fmt.Fprintf(os.Stderr, "tonmesh daemon ready: peer %s, API %s (token in %s)\n", n.Identity().PeerID(), n.APIURL(), h.TokenPath())
			<-cmd.Context().Done()
			log.Info("shutting down")
			ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			defer cancel()
			return n.Stop(ctx)
		},
	}
}

func nodeVersion() string { return node.Version }
