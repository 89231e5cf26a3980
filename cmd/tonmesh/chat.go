package main

import (
	"context"
	"fmt"
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
	cmd.AddCommand(newChatSendCmd(g), newChatInboxCmd(g), newChatReadCmd(g), newChatTimerCmd(g), newChatDeleteCmd(g))
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
