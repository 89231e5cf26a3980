package main

import (
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/tonmesh/tonmesh/webui"
)

func newUICmd(g *globalFlags) *cobra.Command {
	var printOnly bool
	cmd := &cobra.Command{
		Use:   "ui",
		Short: "Open the node's web app in your browser, logged in",
		Long: `ui asks the running daemon for a one-time login link to its web app (node,
passport and consent screen, market, chat, compute playground) and opens it
with xdg-open (open on macOS), or prints it when there is no such opener or
with --print. The link works once, for two minutes, and gives the browser a
session cookie; the API token itself never reaches the browser. Without the
link, open http://<api address>/ui/ and paste the token from HOME/api.token.`,
		Example: `  tonmesh ui
  tonmesh --home ./tn/node2 ui --print`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			var link webui.LoginLink
			if err := c.Post(cmd.Context(), webui.LoginLinkPath, nil, &link); err != nil {
				return fmt.Errorf("ask the daemon at %s for a login link: %w", c.BaseURL(), err)
			}
			out := cmd.OutOrStdout()
			until := link.Expires.Local().Format(time.TimeOnly)
			if !printOnly && openBrowser(link.URL) == nil {
				fmt.Fprintf(out, "opened the web app in your browser (if nothing opened, this link works once, until %s):\n%s\n", until, link.URL)
				return nil
			}
			printLink(out, link.URL, until)
			return nil
		},
	}
	cmd.Flags().BoolVar(&printOnly, "print", false, "print the login link instead of opening it")
	return cmd
}

func printLink(out io.Writer, url, until string) {
	fmt.Fprintf(out, "open this link in a browser on this machine (it works once, until %s):\n%s\n", until, url)
}

// openBrowser starts the desktop's URL opener on url and leaves it running.
func openBrowser(url string) error {
	name := "xdg-open"
	if runtime.GOOS == "darwin" {
		name = "open"
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return err
	}
	cmd := exec.Command(path, url)
	if err := cmd.Start(); err != nil {
		return err
	}
	return cmd.Process.Release()
}
