package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tonmesh/tonmesh/chat"
)

func newChatDeviceCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "device",
		Short: "One chat identity on several nodes: link, list and remove devices",
		Long: `Your chat identity is the peer ID of your primary node. Other nodes (a laptop,
a phone) can be linked to it: each keeps its own keys, and the primary signs
the list of its devices and publishes it in the DHT. A message to you reaches
every device on the list; what one device sends is copied to your other
devices; messages from a linked device show under your identity.

Link a device: run ` + "`tonmesh chat device link`" + ` on the primary, then
` + "`tonmesh chat device join LINK`" + ` on the new node. The link admits one device
and expires (10 minutes by default). Removing a device signs a new list
without it: senders stop delivering to it, and it chats as itself again.
Groups stay per node.`,
		Example: `  tonmesh chat device link                       # on the primary
  tonmesh chat device join 'tonmesh://chat-device?…' --name laptop   # on the new node
  tonmesh chat device list --json
  tonmesh chat device remove 12D3KooW…`,
	}
	cmd.AddCommand(newDeviceListCmd(g), newDeviceLinkCmd(g), newDeviceJoinCmd(g), newDeviceRemoveCmd(g))
	return cmd
}

func printDevices(g *globalFlags, d *chat.Devices) error {
	if g.json {
		return printJSON(d)
	}
	role := "primary"
	if d.Linked {
		role = "linked device"
	}
	fmt.Printf("identity %s (this node: %s; list version %d)\n", d.Identity, role, d.Version)
	rows := [][]string{{"PEER", "NAME", "ADDED", ""}}
	for _, dv := range d.Devices {
		name, added, mark := dv.Name, "", ""
		if dv.Primary {
			name = "(primary)"
		}
		if !dv.Added.IsZero() {
			added = dv.Added.Local().Format(time.DateTime)
		}
		if dv.This {
			mark = "this node"
		}
		rows = append(rows, []string{dv.Peer, name, added, mark})
	}
	table(rows)
	return nil
}

func newDeviceListCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the devices of this node's identity",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.chatClient()
			if err != nil {
				return err
			}
			d, err := c.Devices(cmd.Context())
			if err != nil {
				return err
			}
			return printDevices(g, d)
		},
	}
	addJSONFlag(cmd, g)
	return cmd
}

func newDeviceLinkCmd(g *globalFlags) *cobra.Command {
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "link",
		Short: "Print a one-time link that joins a new device to this identity (on the primary)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.chatClient()
			if err != nil {
				return err
			}
			r, err := c.LinkDevice(cmd.Context(), ttl)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(r)
			}
			fmt.Println(r.Link)
			fmt.Printf("\nOn the new device run: tonmesh chat device join '<the link above>' --name NAME\n")
			fmt.Printf("It admits one device until %s; keep it private.\n", r.Expires.Local().Format(time.DateTime))
			return nil
		},
	}
	cmd.Flags().DurationVar(&ttl, "ttl", 0, "how long the link stays valid (default 10m, at most 24h)")
	addJSONFlag(cmd, g)
	return cmd
}

func newDeviceJoinCmd(g *globalFlags) *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "join LINK",
		Short: "Join this node to the identity whose primary printed LINK",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.chatClient()
			if err != nil {
				return err
			}
			d, err := c.JoinDevice(cmd.Context(), args[0], name)
			if err != nil {
				return err
			}
			if !g.json {
				fmt.Printf("this node now chats as %s\n\n", d.Identity)
			}
			return printDevices(g, d)
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "this device's name in the list, e.g. laptop")
	addJSONFlag(cmd, g)
	return cmd
}

func newDeviceRemoveCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "remove PEER",
		Short: "Remove a linked device (on the primary): messages stop reaching it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.chatClient()
			if err != nil {
				return err
			}
			d, err := c.RemoveDevice(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if !g.json {
				fmt.Printf("removed %s\n\n", args[0])
			}
			return printDevices(g, d)
		},
	}
	addJSONFlag(cmd, g)
	return cmd
}
