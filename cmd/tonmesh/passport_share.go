package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tonmesh/tonmesh/vault"
	"github.com/tonmesh/tonmesh/vault/passport"
	"github.com/tonmesh/tonmesh/vault/share"
)

// The sharing verbs of tonmesh passport: services ask, users answer.

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
				rows := [][]string{{"ID", "FROM", "NONCE", "TYPES", "RECEIVED", "CLAIMS"}}
				for _, r := range rs {
					c := "-"
					if len(r.Claims) > 0 {
						c = claimList(r.Claims)
					}
					rows = append(rows, []string{r.ID, r.From, r.Nonce, joinTypes(r.Types), r.ReceivedAt.Local().Format("2006-01-02 15:04"), c})
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
				for _, c := range d.ClaimSources {
					fmt.Printf("  claims of %s attested by %s (verified on arrival): %s\n", c.Type, c.Verifier, claimList(c.Claims))
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
	var claims []string
	cmd := &cobra.Command{
		Use:   "attest ID TYPE [--claims all|LIST --private-key PEM]",
		Short: "As a verifier: sign \"document verified\" (and derived claims) over a received element and send it to its owner",
		Long: `attest signs, with this node's peer key, that it checked the element TYPE of
the received share ID, and sends the attestation to the element's owner.

With --claims it also derives claims from the element and signs them as salted
digests (selective disclosure, after SD-JWT): the owner can later prove, say,
age_over_18 to a service that asks for it, without sending the birth date.
Supported claims: age_over_NN and resident_of:CC from personal_details,
resident_of:CC from address, document_valid from passport, driver_license,
identity_card and internal_passport (from expiry_date; the attestation then
expires with the document). "--claims all" derives every one the element
supports: age_over_18, age_over_21, resident_of:<residence>, document_valid.
Claims need --private-key: this node keeps no element data after decrypting.`,
		Example: `  tonmesh passport attest ID personal_details --claims all --private-key service.key.pem
  tonmesh passport attest ID personal_details --claims age_over_18,resident_of:FR --private-key service.key.pem`,
		Args: cobra.ExactArgs(2),
		RunE: passportRun(g, func(cmd *cobra.Command, _ *vault.Client, s *share.Client, args []string) (*share.AttestationView, error) {
			key := ""
			if priv != "" {
				var err error
				if key, err = pemArg("private-key", priv); err != nil {
					return nil, err
				}
			}
			if len(claims) > 0 && key == "" {
				return nil, fmt.Errorf("--claims needs --private-key: claims are derived from the element's data, which is decrypted again for them")
			}
			return s.AttestClaims(cmd.Context(), args[0], args[1], key, claims)
		}, func(a *share.AttestationView) {
			fmt.Printf("attested %s for %s; the owner can attach it to later shares\n", a.Type, a.Subject)
			if len(a.Claims) > 0 {
				fmt.Printf("  claims signed (only the owner holds their disclosures): %s\n", claimList(a.Claims))
				fmt.Printf("  valid until %s\n", time.Unix(a.ExpiresAt, 0).Local().Format("2006-01-02 15:04"))
			}
		}),
	}
	cmd.Flags().StringVar(&priv, "private-key", "", "the RSA key that decrypts the share, if it was not decrypted on this node yet (needed with --claims)")
	cmd.Flags().StringSliceVar(&claims, "claims", nil, "derive and sign claims: all, or a list such as age_over_18,document_valid")
	addJSONFlag(cmd, g)
	return cmd
}

// claimList writes claims as name=value, sorted.
func claimList(m map[string]bool) string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	for i, n := range names {
		names[i] = n + "=" + strconv.FormatBool(m[n])
	}
	return strings.Join(names, ", ")
}

func newPassportAttestationsCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "attestations",
		Short: "Verifiers' attestations you hold, with the claims each lets you prove",
		Args:  cobra.NoArgs,
		RunE: passportRun(g, func(cmd *cobra.Command, _ *vault.Client, s *share.Client, _ []string) ([]share.AttestationView, error) {
			return s.Attestations(cmd.Context())
		}, func(as []share.AttestationView) {
			if len(as) == 0 {
				fmt.Println("no attestations: a verifier you share an element with can attest it (passport attest)")
				return
			}
			rows := [][]string{{"TYPE", "VERIFIER", "VALID UNTIL", "CLAIMS"}}
			for _, a := range as {
				c := "-"
				if len(a.Claims) > 0 {
					c = claimList(a.Claims)
				}
				rows = append(rows, []string{string(a.Type), a.Verifier, time.Unix(a.ExpiresAt, 0).Local().Format("2006-01-02"), c})
			}
			table(rows)
		}),
	}
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
					if len(a.Claims) > 0 {
						showClaimAsk(name, a)
						continue
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

// showClaimAsk prints a claims entry: what would be disclosed, on whose
// word, and what no attestation proves yet.
func showClaimAsk(name string, a passport.Ask) {
	fmt.Printf("  %s: only the claims %s (no data fields, no files)\n", name, strings.Join(a.Claims, ", "))
	if len(a.Disclose) > 0 {
		fmt.Printf("    you would disclose %s of %s, as attested by %s\n", claimList(a.Disclose), a.Type, a.Verifier)
	}
	if len(a.Unattested) > 0 {
		fmt.Printf("    not attested: %s (have a verifier attest your %s with these claims before approving)\n", strings.Join(a.Unattested, ", "), a.Type)
	}
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
			if len(r.Claims) > 0 {
				fmt.Printf("proved claims: %s\n", claimList(r.Claims))
			}
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
			rows := [][]string{{"TIME", "SERVICE", "TYPES", "CLAIMS", "NONCE"}}
			for _, r := range rs {
				c := "-"
				if len(r.Claims) > 0 {
					c = claimList(r.Claims)
				}
				rows = append(rows, []string{r.Time.Local().Format("2006-01-02 15:04"), r.Service, joinTypes(r.Types), c, r.Nonce})
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
