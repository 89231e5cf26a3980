package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tonmesh/tonmesh/vault"
	"github.com/tonmesh/tonmesh/vault/passport"
	"github.com/tonmesh/tonmesh/vault/share"
)

func (g *globalFlags) passportClients() (*vault.Client, *share.Client, error) {
	c, err := g.client()
	if err != nil {
		return nil, nil, err
	}
	return vault.NewClient(c.Client), share.NewClient(c.Client), nil
}

func newPassportCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "passport",
		Short: "Identity documents: stored encrypted on peers, shared field by field",
		Long: `passport keeps identity documents (the element types of Telegram Passport:
personal_details, passport, driver_license, identity_card, internal_passport,
address, utility_bill, bank_statement, rental_agreement, passport_registration,
temporary_registration, phone_number, email) in a vault that lives on other
peers. Each element is encrypted on this node with a fresh key and split into
vault.shards_n shards, any vault.shards_k of which restore it; each shard goes
to a different peer, which sees only ciphertext. The list of elements and their
keys (the manifest) is encrypted to you and published in the DHT, so
"tonmesh init --mnemonic-file" on a new machine and "passport restore" bring
everything back. A background audit checks the holders and rebuilds lost shards.

Services ask with an authorization request (passport request); you see exactly
which fields and files it wants (passport requests) and approve or decline.
An approval sends only those, encrypted as Telegram Passport prescribes, so
the service's existing Passport decryption code works unchanged. A scope entry
may ask derived claims instead of data ({"type":"personal_details","claims":
["age_over_18"]}): the approval then proves them with a verifier's attestation
(passport attest --claims) and sends none of the element's fields.

Dates are DD.MM.YYYY, countries ISO 3166-1 alpha-2 codes, files JPEG or PDF of
at most 10 MB.`,
		Example: `  tonmesh passport add personal_details --field first_name=Ada --field last_name=Lovelace \
      --field birth_date=10.12.1815 --field gender=female --field country_code=GB \
      --field residence_country_code=GB
  tonmesh passport add passport --field document_no=X1234567 --field expiry_date=01.01.2030 \
      --file front_side=scan.jpg --file selfie=me.jpg
  tonmesh passport list
  tonmesh passport holders passport
  # a service:
  tonmesh passport request --scope '{"v":1,"data":["personal_details",{"type":"passport","selfie":true}]}' \
      --public-key service.pub.pem --to 12D3KooW…
  # the user:
  tonmesh passport requests
  tonmesh passport approve ID
  # the service again:
  tonmesh passport received --private-key service.key.pem
  # proving an age without the birth date: a verifier attests derived claims …
  tonmesh passport attest ID personal_details --claims all --private-key verifier.key.pem
  tonmesh passport attestations
  # … and a service asks only for the claim
  tonmesh passport request --scope '{"v":1,"data":[{"type":"personal_details","claims":["age_over_18"]}]}' \
      --public-key service.pub.pem --to 12D3KooW…`,
	}
	cmd.AddCommand(newPassportAddCmd(g), newPassportListCmd(g), newPassportShowCmd(g), newPassportDeleteCmd(g),
		newPassportRestoreCmd(g), newPassportHoldersCmd(g), newPassportAuditCmd(g),
		newPassportRequestCmd(g), newPassportReceivedCmd(g), newPassportSendErrorsCmd(g), newPassportAttestCmd(g), newPassportAttestationsCmd(g),
		newPassportRequestsCmd(g), newPassportApproveCmd(g), newPassportDeclineCmd(g), newPassportSharesCmd(g), newPassportErrorsCmd(g))
	return cmd
}

// passportRun is the shape of every passport verb: call the API, then
// print the result as JSON or as text.
func passportRun[T any](g *globalFlags, call func(cmd *cobra.Command, v *vault.Client, s *share.Client, args []string) (T, error), show func(T)) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		v, s, err := g.passportClients()
		if err != nil {
			return err
		}
		out, err := call(cmd, v, s, args)
		if err != nil {
			return err
		}
		if g.json {
			return printJSON(out)
		}
		show(out)
		return nil
	}
}

func parseElementType(s string) (passport.ElementType, error) {
	t, err := passport.ParseType(s)
	if err != nil {
		return "", fmt.Errorf("%w (see `tonmesh passport --help`)", err)
	}
	return t, nil
}

// buildElement turns --field and --file flags into an element.
func buildElement(typ string, fields, files []string) (*passport.Element, error) {
	t, err := parseElementType(typ)
	if err != nil {
		return nil, err
	}
	e := &passport.Element{Type: t}
	for _, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--field %q: write KEY=VALUE, e.g. --field first_name=Ada", f)
		}
		if k == "value" && (t == passport.TypePhoneNumber || t == passport.TypeEmail) {
			e.Value = v
			continue
		}
		if e.Data == nil {
			e.Data = map[string]string{}
		}
		e.Data[k] = v
	}
	for _, f := range files {
		kind, path, ok := strings.Cut(f, "=")
		if !ok || path == "" {
			return nil, fmt.Errorf("--file %q: write KIND=PATH, e.g. --file front_side=scan.jpg (kinds: front_side, reverse_side, selfie, files, translation)", f)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--file %s: %w", kind, err)
		}
		file := passport.File{Name: filepath.Base(path), MIME: passport.SniffMIME(data), Bytes: data}
		switch kind {
		case "front_side":
			e.FrontSide = &file
		case "reverse_side":
			e.ReverseSide = &file
		case "selfie":
			e.Selfie = &file
		case "files", "file":
			e.Files = append(e.Files, file)
		case "translation":
			e.Translation = append(e.Translation, file)
		default:
			return nil, fmt.Errorf("--file %s: unknown kind (use front_side, reverse_side, selfie, files or translation)", kind)
		}
	}
	return e, e.Validate()
}

func newPassportAddCmd(g *globalFlags) *cobra.Command {
	var fields, files []string
	cmd := &cobra.Command{
		Use:   "add TYPE --field KEY=VALUE … [--file KIND=PATH …]",
		Short: "Add or replace an element: encrypt it and spread its shards over peers",
		Long: `add validates the element here (each error names the field), then sends it
to the node in its binary encoding, which the node encrypts, splits into shards
and streams to the peers as it arrives: each stores its shard and signs a
receipt. The node holds a few MiB of a large element, not all of it. For
phone_number and email use --field value=….`,
		Args: cobra.ExactArgs(1),
		RunE: passportRun(g, func(cmd *cobra.Command, v *vault.Client, _ *share.Client, args []string) (*vault.ElementInfo, error) {
			e, err := buildElement(args[0], fields, files)
			if err != nil {
				return nil, err
			}
			if !g.json {
				fmt.Fprintf(os.Stderr, "encrypting %s (%d bytes) and placing its shards on peers…\n", e.Type, e.Size())
			}
			return v.Upload(cmd.Context(), e)
		}, func(in *vault.ElementInfo) {
			fmt.Printf("%s stored: %d shards on %d peers, any %d restore it\n", in.Type, in.N, in.N, in.K)
		}),
	}
	cmd.Flags().StringArrayVar(&fields, "field", nil, "a data field, KEY=VALUE (repeat)")
	cmd.Flags().StringArrayVar(&files, "file", nil, "a file, KIND=PATH with KIND front_side, reverse_side, selfie, files or translation (repeat)")
	addJSONFlag(cmd, g)
	return cmd
}

func newPassportListCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Your elements and the health of their shards",
		Args:  cobra.NoArgs,
		RunE: passportRun(g, func(cmd *cobra.Command, v *vault.Client, _ *share.Client, _ []string) ([]vault.ElementInfo, error) {
			return v.List(cmd.Context())
		}, func(es []vault.ElementInfo) {
			if len(es) == 0 {
				fmt.Println("the vault is empty (add elements with `tonmesh passport add`, or `tonmesh passport restore` on a restored identity)")
				return
			}
			rows := [][]string{{"TYPE", "SIZE", "SHARDS OK", "ADDED", "CHECKED"}}
			for _, e := range es {
				rows = append(rows, []string{string(e.Type), strconv.Itoa(e.Size), fmt.Sprintf("%d of %d (need %d)", e.Reachable, e.N, e.K),
					e.Added.Local().Format("2006-01-02 15:04"), e.Checked.Local().Format("2006-01-02 15:04")})
			}
			table(rows)
		}),
	}
	addJSONFlag(cmd, g)
	return cmd
}

func newPassportDeleteCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "delete TYPE",
		Short: "Delete an element: its holders drop their shards",
		Args:  cobra.ExactArgs(1),
		RunE: passportRun(g, func(cmd *cobra.Command, v *vault.Client, _ *share.Client, args []string) (*vault.DeleteResult, error) {
			t, err := parseElementType(args[0])
			if err != nil {
				return nil, err
			}
			return v.Delete(cmd.Context(), t)
		}, func(r *vault.DeleteResult) { fmt.Printf("%s deleted\n", r.Type) }),
	}
	addJSONFlag(cmd, g)
	return cmd
}

func newPassportRestoreCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "restore",
		Short: "Bring the vault back from the network (after init --mnemonic-file)",
		Args:  cobra.NoArgs,
		RunE: passportRun(g, func(cmd *cobra.Command, v *vault.Client, _ *share.Client, _ []string) (*vault.RestoreResult, error) {
			if !g.json {
				fmt.Fprintln(os.Stderr, "fetching the vault manifest from the DHT…")
			}
			return v.Restore(cmd.Context())
		}, func(r *vault.RestoreResult) {
			if !r.Replaced {
				fmt.Printf("this node's vault is as new as the network's (manifest %d): nothing to restore\n", r.Seq)
				return
			}
			fmt.Printf("restored %d elements (manifest %d):", len(r.Elements), r.Seq)
			for _, e := range r.Elements {
				fmt.Printf(" %s", e.Type)
			}
			fmt.Println()
		}),
	}
	addJSONFlag(cmd, g)
	return cmd
}

func newPassportHoldersCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "holders TYPE",
		Short: "Which peers hold which shards of an element, checked now",
		Args:  cobra.ExactArgs(1),
		RunE: passportRun(g, func(cmd *cobra.Command, v *vault.Client, _ *share.Client, args []string) ([]vault.HolderView, error) {
			t, err := parseElementType(args[0])
			if err != nil {
				return nil, err
			}
			return v.Holders(cmd.Context(), t)
		}, func(hs []vault.HolderView) {
			rows := [][]string{{"SHARD", "STATUS", "PEER", "CID"}}
			for _, h := range hs {
				status := h.Status
				if h.Error != "" {
					status += ": " + h.Error
				}
				rows = append(rows, []string{strconv.Itoa(h.Index), status, h.Peer, h.CID})
			}
			table(rows)
		}),
	}
	addJSONFlag(cmd, g)
	return cmd
}

func newPassportAuditCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Challenge every holder now and repair lost shards",
		Args:  cobra.NoArgs,
		RunE: passportRun(g, func(cmd *cobra.Command, v *vault.Client, _ *share.Client, _ []string) (*vault.AuditReport, error) {
			return v.Audit(cmd.Context())
		}, func(r *vault.AuditReport) {
			fmt.Printf("%d elements, %d shards: %d healthy, %d unreachable, %d lost, %d repaired\n",
				r.Elements, r.Shards, r.Healthy, r.Unreachable, r.Lost, r.Repaired)
		}),
	}
	addJSONFlag(cmd, g)
	return cmd
}
