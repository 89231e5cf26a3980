package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
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
the service's existing Passport decryption code works unchanged.

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
  tonmesh passport received --private-key service.key.pem`,
	}
	cmd.AddCommand(newPassportAddCmd(g), newPassportListCmd(g), newPassportShowCmd(g), newPassportDeleteCmd(g),
		newPassportRestoreCmd(g), newPassportHoldersCmd(g), newPassportAuditCmd(g),
		newPassportRequestCmd(g), newPassportReceivedCmd(g), newPassportSendErrorsCmd(g), newPassportAttestCmd(g),
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
		Long: `add validates the element here (each error names the field), then the node
encrypts it, splits it into shards and stores each on a different peer, which
signs a receipt. For phone_number and email use --field value=….`,
		Args: cobra.ExactArgs(1),
		RunE: passportRun(g, func(cmd *cobra.Command, v *vault.Client, _ *share.Client, args []string) (*vault.ElementInfo, error) {
			e, err := buildElement(args[0], fields, files)
			if err != nil {
				return nil, err
			}
			if !g.json {
				fmt.Fprintf(os.Stderr, "encrypting %s (%d bytes) and placing its shards on peers…\n", e.Type, e.Size())
			}
			return v.Add(cmd.Context(), e)
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

func newPassportShowCmd(g *globalFlags) *cobra.Command {
	var saveDir string
	cmd := &cobra.Command{
		Use:   "show TYPE",
		Short: "Fetch, decrypt and show one element (--save-files DIR writes its files)",
		Args:  cobra.ExactArgs(1),
		RunE: passportRun(g, func(cmd *cobra.Command, v *vault.Client, _ *share.Client, args []string) (*passport.Element, error) {
			t, err := parseElementType(args[0])
			if err != nil {
				return nil, err
			}
			e, err := v.Element(cmd.Context(), t)
			if err != nil {
				return nil, err
			}
			if saveDir != "" {
				if err := saveFiles(saveDir, e); err != nil {
					return nil, err
				}
			}
			return e, nil
		}, showElement),
	}
	cmd.Flags().StringVar(&saveDir, "save-files", "", "write the element's files into this directory")
	addJSONFlag(cmd, g)
	return cmd
}

func elementFiles(e *passport.Element) map[string]*passport.File {
	out := map[string]*passport.File{"front_side": e.FrontSide, "reverse_side": e.ReverseSide, "selfie": e.Selfie}
	for i := range e.Files {
		out["files_"+strconv.Itoa(i+1)] = &e.Files[i]
	}
	for i := range e.Translation {
		out["translation_"+strconv.Itoa(i+1)] = &e.Translation[i]
	}
	for k, f := range out {
		if f == nil {
			delete(out, k)
		}
	}
	return out
}

func saveFiles(dir string, e *passport.Element) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for kind, f := range elementFiles(e) {
		name := filepath.Join(dir, string(e.Type)+"_"+kind+"_"+filepath.Base(f.Name))
		if err := os.WriteFile(name, f.Bytes, 0o600); err != nil {
			return err
		}
		fmt.Fprintln(os.Stderr, "wrote", name)
	}
	return nil
}

func showElement(e *passport.Element) {
	rows := [][]string{{"type", string(e.Type)}}
	if e.Value != "" {
		rows = append(rows, []string{"value", e.Value})
	}
	keys := make([]string, 0, len(e.Data))
	for k := range e.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		rows = append(rows, []string{k, e.Data[k]})
	}
	files := elementFiles(e)
	kinds := make([]string, 0, len(files))
	for k := range files {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		f := files[k]
		rows = append(rows, []string{k, fmt.Sprintf("%s (%s, %d bytes)", f.Name, f.MIME, len(f.Bytes))})
	}
	table(rows)
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

// pemArg reads a PEM key given inline or as a file path.
func pemArg(flag, v string) (string, error) {
	if strings.Contains(v, "-----BEGIN") {
		return v, nil
	}
	b, err := os.ReadFile(v)
	if err != nil {
		return "", fmt.Errorf("--%s: give a PEM file path or the PEM text: %w", flag, err)
	}
	return string(b), nil
}

func newPassportRequestCmd(g *globalFlags) *cobra.Command {
	var b share.NewRequestBody
	var scope, pub string
	cmd := &cobra.Command{
		Use:   "request --scope JSON --public-key PEM [--nonce N] [--to PEER]",
		Short: "As a service: ask a user for documents (prints a tonmesh://passport link)",
		Args:  cobra.NoArgs,
		RunE: passportRun(g, func(cmd *cobra.Command, _ *vault.Client, s *share.Client, _ []string) (*share.NewRequestResult, error) {
			if !json.Valid([]byte(scope)) {
				return nil, fmt.Errorf("--scope is not JSON; example: '{\"v\":1,\"data\":[\"personal_details\",{\"type\":\"passport\",\"selfie\":true}]}'")
			}
			var err error
			if b.PublicKey, err = pemArg("public-key", pub); err != nil {
				return nil, err
			}
			b.Scope = json.RawMessage(scope)
			return s.NewRequest(cmd.Context(), b)
		}, func(r *share.NewRequestResult) {
			switch {
			case r.Delivered:
				fmt.Printf("request %s delivered to %s; nonce %s\n", r.ID, b.To, r.Nonce)
			case b.To != "":
				fmt.Printf("could not deliver to %s (%s); give the user this link instead:\n", b.To, r.Error)
			default:
				fmt.Printf("request %s (nonce %s); give the user this link:\n", r.ID, r.Nonce)
			}
			if !r.Delivered {
				fmt.Println(r.Link)
			}
		}),
	}
	cmd.Flags().StringVar(&scope, "scope", "", "the Telegram Passport scope, v1 JSON (required)")
	cmd.Flags().StringVar(&pub, "public-key", "", "the service's RSA public key: PEM file or text (required)")
	cmd.Flags().StringVar(&b.Nonce, "nonce", "", "the request's nonce (default: random); never reuse one")
	cmd.Flags().StringVar(&b.Callback, "callback", "", "URL the user's app opens afterwards (optional)")
	cmd.Flags().StringVar(&b.To, "to", "", "the user's peer ID: deliver the request to their node")
	cmd.MarkFlagRequired("scope")
	cmd.MarkFlagRequired("public-key")
	addJSONFlag(cmd, g)
	return cmd
}

func newPassportReceivedCmd(g *globalFlags) *cobra.Command {
	var priv, id string
	cmd := &cobra.Command{
		Use:   "received [--private-key PEM]",
		Short: "As a service: shares received (decrypted with --private-key)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, s, err := g.passportClients()
			if err != nil {
				return err
			}
			if priv == "" {
				rs, err := s.Received(cmd.Context())
				if err != nil {
					return err
				}
				if g.json {
					return printJSON(rs)
				}
				rows := [][]string{{"ID", "FROM", "NONCE", "TYPES", "RECEIVED"}}
				for _, r := range rs {
					rows = append(rows, []string{r.ID, r.From, r.Nonce, joinTypes(r.Types), r.ReceivedAt.Local().Format("2006-01-02 15:04")})
				}
				table(rows)
				fmt.Fprintln(os.Stderr, "decrypt with --private-key KEY.pem")
				return nil
			}
			key, err := pemArg("private-key", priv)
			if err != nil {
				return err
			}
			ds, err := s.Decrypt(cmd.Context(), key, id)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(ds)
			}
			for _, d := range ds {
				fmt.Printf("share %s from %s (nonce %s)\n", d.ID, d.From, d.Nonce)
				if d.Error != "" {
					fmt.Printf("  does not decrypt: %s\n", d.Error)
					continue
				}
				for _, e := range d.Elements {
					showElement(e)
				}
				for _, a := range d.Attestations {
					verdict := "valid"
					if !a.Valid {
						verdict = "INVALID: " + a.Error
					}
					fmt.Printf("  attestation of %s by %s: %s\n", a.Type, a.Verifier, verdict)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&priv, "private-key", "", "the service's RSA private key: PEM file or text")
	cmd.Flags().StringVar(&id, "id", "", "decrypt only this share")
	addJSONFlag(cmd, g)
	return cmd
}

func joinTypes(ts []passport.ElementType) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, ",")
}

func newPassportSendErrorsCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "send-errors ID ERRORS_JSON",
		Short: "As a service: tell the user what is wrong with a share (PassportElementError list)",
		Example: `  tonmesh passport send-errors ID '[{"source":"data","type":"passport","field_name":"document_no",
      "data_hash":"…","message":"The number does not match the scan"}]'`,
		Args: cobra.ExactArgs(2),
		RunE: passportRun(g, func(cmd *cobra.Command, _ *vault.Client, s *share.Client, args []string) (*share.SentResult, error) {
			var errs []passport.PassportElementError
			if err := json.Unmarshal([]byte(args[1]), &errs); err != nil {
				return nil, fmt.Errorf("ERRORS_JSON is not a JSON list of PassportElementError objects: %w", err)
			}
			return s.SendErrors(cmd.Context(), args[0], errs)
		}, func(r *share.SentResult) { fmt.Printf("%d errors sent to the user of share %s\n", r.Sent, r.ID) }),
	}
	addJSONFlag(cmd, g)
	return cmd
}

func newPassportAttestCmd(g *globalFlags) *cobra.Command {
	var priv string
	cmd := &cobra.Command{
		Use:   "attest ID TYPE",
		Short: "As a verifier: sign \"document verified\" over a received element and send it to its owner",
		Args:  cobra.ExactArgs(2),
		RunE: passportRun(g, func(cmd *cobra.Command, _ *vault.Client, s *share.Client, args []string) (*passport.Attestation, error) {
			key := ""
			if priv != "" {
				var err error
				if key, err = pemArg("private-key", priv); err != nil {
					return nil, err
				}
			}
			return s.Attest(cmd.Context(), args[0], args[1], key)
		}, func(a *passport.Attestation) {
			fmt.Printf("attested %s for %s; the owner can attach it to later shares\n", a.Type, a.Subject)
		}),
	}
	cmd.Flags().StringVar(&priv, "private-key", "", "the RSA key that decrypts the share, if it was not decrypted on this node yet")
	addJSONFlag(cmd, g)
	return cmd
}

func newPassportRequestsCmd(g *globalFlags) *cobra.Command {
	var link string
	cmd := &cobra.Command{
		Use:   "requests [--add LINK]",
		Short: "Pending requests from services, with exactly what each asks for",
		Args:  cobra.NoArgs,
		RunE: passportRun(g, func(cmd *cobra.Command, _ *vault.Client, s *share.Client, _ []string) ([]share.PendingView, error) {
			if link != "" {
				if _, err := s.AddLink(cmd.Context(), link); err != nil {
					return nil, err
				}
			}
			return s.Pending(cmd.Context())
		}, func(ps []share.PendingView) {
			if len(ps) == 0 {
				fmt.Println("no pending requests")
				return
			}
			for _, p := range ps {
				fmt.Printf("request %s from service %s (nonce %s)\n", p.ID, p.Service, p.Nonce)
				for _, a := range p.Asks {
					what := append(append([]string{}, a.Fields...), a.Files...)
					name := string(a.Type)
					if len(a.OneOf) > 0 {
						name = "one of " + joinTypes(a.OneOf)
					}
					fmt.Printf("  %s: %s\n", name, strings.Join(what, ", "))
				}
				if len(p.Missing) > 0 {
					fmt.Printf("  you lack: %s (add them before approving)\n", joinTypes(p.Missing))
				}
			}
			fmt.Println("approve with `tonmesh passport approve ID`, or decline with `tonmesh passport decline ID`")
		}),
	}
	cmd.Flags().StringVar(&link, "add", "", "add a tonmesh://passport?… request link first")
	addJSONFlag(cmd, g)
	return cmd
}

func newPassportApproveCmd(g *globalFlags) *cobra.Command {
	var attach bool
	cmd := &cobra.Command{
		Use:   "approve ID|LINK",
		Short: "Send the service exactly what it asked for",
		Args:  cobra.ExactArgs(1),
		RunE: passportRun(g, func(cmd *cobra.Command, _ *vault.Client, s *share.Client, args []string) (*share.ShareSummary, error) {
			id := args[0]
			if strings.HasPrefix(id, "tonmesh://") {
				p, err := s.AddLink(cmd.Context(), id)
				if err != nil {
					return nil, err
				}
				id = p.ID
			}
			return s.Approve(cmd.Context(), id, attach)
		}, func(r *share.ShareSummary) {
			fmt.Printf("shared %s with %s (%d files, %d attestations)\n", joinTypes(r.Types), r.Service, r.Files, r.Attestations)
		}),
	}
	cmd.Flags().BoolVar(&attach, "attestations", false, "attach verifiers' attestations of the shared elements")
	addJSONFlag(cmd, g)
	return cmd
}

func newPassportDeclineCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "decline ID",
		Short: "Decline a request; the service is told",
		Args:  cobra.ExactArgs(1),
		RunE: passportRun(g, func(cmd *cobra.Command, _ *vault.Client, s *share.Client, args []string) (*share.DeclineResult, error) {
			return s.Decline(cmd.Context(), args[0])
		}, func(r *share.DeclineResult) {
			if r.Notified {
				fmt.Printf("declined; %s was told\n", r.Service)
			} else {
				fmt.Printf("declined; %s could not be told: %s\n", r.Service, r.Error)
			}
		}),
	}
	addJSONFlag(cmd, g)
	return cmd
}

func newPassportSharesCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "shares",
		Short: "What you shared, with whom and when",
		Args:  cobra.NoArgs,
		RunE: passportRun(g, func(cmd *cobra.Command, _ *vault.Client, s *share.Client, _ []string) ([]share.ShareRecord, error) {
			return s.Shares(cmd.Context())
		}, func(rs []share.ShareRecord) {
			rows := [][]string{{"TIME", "SERVICE", "TYPES", "NONCE"}}
			for _, r := range rs {
				rows = append(rows, []string{r.Time.Local().Format("2006-01-02 15:04"), r.Service, joinTypes(r.Types), r.Nonce})
			}
			table(rows)
		}),
	}
	addJSONFlag(cmd, g)
	return cmd
}

func newPassportErrorsCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "errors",
		Short: "Problems services found in what you shared",
		Args:  cobra.NoArgs,
		RunE: passportRun(g, func(cmd *cobra.Command, _ *vault.Client, s *share.Client, _ []string) ([]share.ErrorReport, error) {
			return s.Errors(cmd.Context())
		}, func(rs []share.ErrorReport) {
			if len(rs) == 0 {
				fmt.Println("no errors reported by services")
				return
			}
			for _, r := range rs {
				for _, e := range r.Errors {
					where := e.Source
					if e.FieldName != "" {
						where += " " + e.FieldName
					}
					fmt.Printf("%s: %s (%s): %s\n", r.Service, e.Type, where, e.Message)
				}
			}
		}),
	}
	addJSONFlag(cmd, g)
	return cmd
}
