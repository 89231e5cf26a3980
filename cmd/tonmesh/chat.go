package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/tonmesh/tonmesh/chat"
)

func (g *globalFlags) chatClient() (*chat.Client, error) {
	c, err := g.client()
	if err != nil {
		return nil, err
	}
	return chat.NewClient(c.Client), nil
}

func newChatCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "chat",
		Short: "End-to-end encrypted messages to peer IDs or TON addresses, with timers",
		Long: `chat sends end-to-end encrypted messages to another tonmesh identity, named by
its peer ID or its TON wallet address (` + "`tonmesh id`" + ` shows both), or by a
@username or +888 number it owns (resolved on chain through the market). Sessions start with an X3DH key agreement
against the recipient's signed prekey (published in the DHT) and continue with a
double ratchet, so a stolen current key reveals no past message.

A message goes straight to the recipient when it is reachable; otherwise it is
left, encrypted and padded, with the peers closest to the recipient's mailbox
key, which hand it over when the recipient comes back. Timers delete a message
everywhere (locally, at the recipient, in mailboxes) when they run out.`,
		Example: `  tonmesh chat send 12D3KooW… "hello" --ttl 1h
  tonmesh chat inbox
  tonmesh chat read 12D3KooW… --follow
  tonmesh chat timer 12D3KooW… 7d
  tonmesh chat delete 12D3KooW…`,
	}
	cmd.AddCommand(newChatSendCmd(g), newChatInboxCmd(g), newChatReadCmd(g), newChatTimerCmd(g), newChatDeleteCmd(g), newChatGroupCmd(g), newChatDeviceCmd(g))
	return cmd
}

func newChatSendCmd(g *globalFlags) *cobra.Command {
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "send TO TEXT",
		Short: "Send TEXT to TO (a peer ID, TON address, @username or +888 number)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.chatClient()
			if err != nil {
				return err
			}
			m, err := c.Send(cmd.Context(), args[0], args[1], ttl)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(m)
			}
			switch {
			case m.Holders > 0:
				fmt.Printf("%s is offline: message left encrypted with %d mailbox peers (%s)\n", args[0], m.Holders, m.Status)
			default:
				fmt.Printf("delivered (%s)\n", m.Status)
			}
			if !m.Expires.IsZero() {
				fmt.Printf("deleted everywhere at %s\n", m.Expires.Local().Format(time.DateTime))
			}
			return nil
		},
	}
	cmd.Flags().DurationVar(&ttl, "ttl", 0, "delete the message everywhere after this long (default: the conversation's timer)")
	addJSONFlag(cmd, g)
	return cmd
}

func newChatInboxCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "inbox",
		Short: "List conversations with unread counts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.chatClient()
			if err != nil {
				return err
			}
			in, err := c.Inbox(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(in)
			}
			if len(in.Conversations) == 0 {
				fmt.Println("no conversations yet (tonmesh chat send PEER TEXT)")
			} else {
				rows := [][]string{{"PEER", "UNREAD", "MESSAGES", "TIMER", "LAST"}}
				for _, cv := range in.Conversations {
					timer := "off"
					if cv.TimerS > 0 {
						timer = (time.Duration(cv.TimerS) * time.Second).String()
					}
					rows = append(rows, []string{cv.Peer, fmt.Sprint(cv.Unread), fmt.Sprint(cv.Messages), timer, cv.LastAt.Local().Format(time.DateTime)})
				}
				table(rows)
			}
			if in.Rejected > 0 {
				fmt.Printf("\n%d incoming messages were refused (forged, undecryptable or malformed)\n", in.Rejected)
			}
			return nil
		},
	}
	addJSONFlag(cmd, g)
	return cmd
}

func newChatReadCmd(g *globalFlags) *cobra.Command {
	var follow bool
	cmd := &cobra.Command{
		Use:   "read TO",
		Short: "Show the conversation with TO and mark it read (--follow waits for more)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.chatClient()
			if err != nil {
				return err
			}
			var since uint64
			for {
				page, err := c.Messages(cmd.Context(), args[0], since)
				if err != nil {
					if follow && cmd.Context().Err() != nil {
						return nil
					}
					return err
				}
				for _, m := range page.Messages {
					if g.json {
						if err := printJSON(m); err != nil {
							return err
						}
						continue
					}
					printMessage(m)
				}
				since = page.Next
				if !follow {
					return nil
				}
				if !sleepCtx(cmd.Context(), time.Second) {
					return nil
				}
			}
		},
	}
	cmd.Flags().BoolVar(&follow, "follow", false, "keep waiting for new messages until Ctrl-C")
	addJSONFlag(cmd, g)
	return cmd
}

func printMessage(m chat.Message) {
	who := "them"
	if m.Direction == chat.DirOut {
		who = "me"
	}
	line := m.Text
	if m.Kind == chat.KindTimer {
		line = "(timer set to " + (time.Duration(m.TimerS) * time.Second).String() + ")"
	}
	fmt.Printf("%s  %-4s  %s\n", m.Sent.Local().Format(time.DateTime), who, line)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

func newChatTimerCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "timer TO DURATION",
		Short: "Set the conversation's auto-delete timer (e.g. 30s, 1h, 7d; off)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ttl, err := chat.ParseTTL(args[1])
			if err != nil {
				return fmt.Errorf("DURATION %q: %w", args[1], err)
			}
			c, err := g.chatClient()
			if err != nil {
				return err
			}
			if _, err := c.SetTimer(cmd.Context(), args[0], ttl); err != nil {
				return err
			}
			if ttl == 0 {
				fmt.Println("timer off: new messages are kept")
			} else {
				fmt.Printf("new messages with %s are deleted everywhere after %s\n", args[0], ttl)
			}
			return nil
		},
	}
}

func newChatDeleteCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "delete TO",
		Short: "Delete the conversation with TO from this node",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.chatClient()
			if err != nil {
				return err
			}
			r, err := c.DeleteConversation(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Printf("deleted %d messages with %s\n", r.Deleted, r.Peer)
			return nil
		},
	}
}

func newChatGroupCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "group",
		Short: "End-to-end encrypted groups (up to 200 members) with sender keys",
		Long: `A group is a signed member list (its admins sign every change) and one sender
key per member and membership epoch. A message is encrypted once with the
sender's key and a copy goes to every member, directly or through its mailbox.
Each sender key reaches the members over their pairwise sessions; any change of
membership starts a new epoch in which every member uses a new key, so someone
removed (or who left) cannot read what follows.`,
		Example: `  tonmesh chat group create "book club" 12D3KooWA… 12D3KooWB… --ttl 7d
  tonmesh chat group send GROUP "meeting at eight"
  tonmesh chat group show GROUP --follow
  tonmesh chat group invite GROUP 12D3KooWC… --admin
  tonmesh chat group remove GROUP 12D3KooWB…
  tonmesh chat group rename GROUP "book & film club"
  tonmesh chat group leave GROUP
  tonmesh chat group list --json`,
	}
	cmd.AddCommand(newGroupCreateCmd(g), newGroupSendCmd(g), newGroupListCmd(g), newGroupShowCmd(g),
		newGroupMembersCmd(g, true), newGroupMembersCmd(g, false), newGroupLeaveCmd(g), newGroupRenameCmd(g))
	return cmd
}

func printGroupChange(g *globalFlags, grp *chat.Group, what string) error {
	if g.json {
		return printJSON(grp)
	}
	fmt.Printf("%s: group %s %q, epoch %d, %d members\n", what, grp.ID, grp.Name, grp.Epoch, len(grp.Members))
	if f := grp.Notified; f != nil && f.Members > 0 {
		fmt.Printf("members told: %d directly, %d through mailboxes, %d not reached\n", f.Delivered, f.Mailbox, f.Failed)
	}
	return nil
}

func newGroupCreateCmd(g *globalFlags) *cobra.Command {
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "create NAME MEMBER...",
		Short: "Create a group with you as admin and tell the members",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.chatClient()
			if err != nil {
				return err
			}
			grp, err := c.CreateGroup(cmd.Context(), args[0], args[1:], ttl)
			if err != nil {
				return err
			}
			return printGroupChange(g, grp, "created")
		},
	}
	cmd.Flags().DurationVar(&ttl, "ttl", 0, "the group's default message timer")
	addJSONFlag(cmd, g)
	return cmd
}

func newGroupSendCmd(g *globalFlags) *cobra.Command {
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "send GROUP TEXT",
		Short: "Send TEXT to every member of GROUP",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.chatClient()
			if err != nil {
				return err
			}
			m, err := c.SendGroup(cmd.Context(), args[0], args[1], ttl)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(m)
			}
			if f := m.Fanout; f != nil {
				fmt.Printf("sent to %d members: %d directly, %d through mailboxes, %d not reached\n", f.Members, f.Delivered, f.Mailbox, f.Failed)
			}
			if !m.Expires.IsZero() {
				fmt.Printf("deleted everywhere at %s\n", m.Expires.Local().Format(time.DateTime))
			}
			return nil
		},
	}
	cmd.Flags().DurationVar(&ttl, "ttl", 0, "delete the message everywhere after this long (default: the group's timer)")
	addJSONFlag(cmd, g)
	return cmd
}

func newGroupListCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List your groups with unread counts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.chatClient()
			if err != nil {
				return err
			}
			l, err := c.Groups(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(l)
			}
			if len(l.Groups) == 0 {
				fmt.Println("no groups yet (tonmesh chat group create NAME MEMBER...)")
				return nil
			}
			rows := [][]string{{"GROUP", "NAME", "MEMBERS", "UNREAD", "MESSAGES", "STATE"}}
			for _, gr := range l.Groups {
				state := "member"
				if gr.Left {
					state = "left"
				}
				rows = append(rows, []string{gr.ID, gr.Name, fmt.Sprint(len(gr.Members)), fmt.Sprint(gr.Unread), fmt.Sprint(gr.Messages), state})
			}
			table(rows)
			return nil
		},
	}
	addJSONFlag(cmd, g)
	return cmd
}

func newGroupShowCmd(g *globalFlags) *cobra.Command {
	var follow bool
	cmd := &cobra.Command{
		Use:   "show GROUP",
		Short: "Show a group's members and messages and mark them read (--follow waits for more)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.chatClient()
			if err != nil {
				return err
			}
			grp, err := c.Group(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if g.json {
				if err := printJSON(grp); err != nil {
					return err
				}
			} else {
				fmt.Printf("group %s %q, epoch %d\n", grp.ID, grp.Name, grp.Epoch)
				for _, m := range grp.Members {
					role := ""
					if slices.Contains(grp.Admins, m) {
						role = " (admin)"
					}
					fmt.Printf("  %s%s\n", m, role)
				}
				if grp.Left {
					fmt.Println("you are no longer in this group")
				}
				fmt.Println()
			}
			var since uint64
			for {
				page, err := c.GroupMessages(cmd.Context(), args[0], since)
				if err != nil {
					if follow && cmd.Context().Err() != nil {
						return nil
					}
					return err
				}
				for _, m := range page.Messages {
					if g.json {
						if err := printJSON(m); err != nil {
							return err
						}
						continue
					}
					who := m.Peer
					if m.Direction == chat.DirOut {
						who = "me"
					}
					fmt.Printf("%s  %s  %s\n", m.Sent.Local().Format(time.DateTime), who, m.Text)
				}
				since = page.Next
				if !follow || !sleepCtx(cmd.Context(), time.Second) {
					return nil
				}
			}
		},
	}
	cmd.Flags().BoolVar(&follow, "follow", false, "keep waiting for new messages until Ctrl-C")
	addJSONFlag(cmd, g)
	return cmd
}

func newGroupMembersCmd(g *globalFlags, invite bool) *cobra.Command {
	var admin bool
	use, short, done := "remove GROUP MEMBER...", "Remove members (admins only); everyone moves to new keys", "removed"
	if invite {
		use, short, done = "invite GROUP MEMBER...", "Add members (admins only)", "invited"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.chatClient()
			if err != nil {
				return err
			}
			var grp *chat.Group
			if invite {
				grp, err = c.InviteToGroup(cmd.Context(), args[0], args[1:], admin)
			} else {
				grp, err = c.RemoveFromGroup(cmd.Context(), args[0], args[1:])
			}
			if err != nil {
				return err
			}
			return printGroupChange(g, grp, done)
		},
	}
	if invite {
		cmd.Flags().BoolVar(&admin, "admin", false, "make the new members admins too")
	}
	addJSONFlag(cmd, g)
	return cmd
}

func newGroupLeaveCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "leave GROUP",
		Short: "Leave a group (the others move to new keys)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.chatClient()
			if err != nil {
				return err
			}
			grp, err := c.LeaveGroup(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printGroupChange(g, grp, "left")
		},
	}
	addJSONFlag(cmd, g)
	return cmd
}

func newGroupRenameCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rename GROUP NAME",
		Short: "Rename a group (admins only)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.chatClient()
			if err != nil {
				return err
			}
			grp, err := c.RenameGroup(cmd.Context(), args[0], args[1])
			if err != nil {
				return err
			}
			return printGroupChange(g, grp, "renamed")
		},
	}
	addJSONFlag(cmd, g)
	return cmd
}
