package main

import (
	"fmt"
	"math/big"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tonmesh/tonmesh/compute"
)

func (g *globalFlags) computeClient() (*compute.Client, error) {
	c, err := g.client()
	if err != nil {
		return nil, err
	}
	return compute.NewClient(c.Client), nil
}

func newComputeCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "compute",
		Short: "Confidential AI inference: offers, requests, worker and proxy status",
		Long: `compute sends AI inference requests to workers through proxies. Every node is
a client; compute.roles in config.toml makes it a worker (serves models, earns
TON) or a proxy (routes and bills, for a commission).

The prompt and the answer are sealed with HPKE to the worker's attested key:
the proxy sees only the model name and sizes. Workers prove their key with a
TEE quote (tdx or sev-snp); a worker attested as "none" is refused unless
compute.allow_unattested is true (testnets), and its answers are marked as not
confidential. Each request is paid per token by voucher on a payment channel:
client to proxy, proxy to worker.

Applications use the node's OpenAI-compatible API: base URL <api>/v1, and the
node's API token (the api.token file in its home) as the API key:
  curl $API/v1/chat/completions -H "Authorization: Bearer $TOKEN" \
    -d '{"model":"stories260K","messages":[{"role":"user","content":"Once"}],"stream":true}'

Prices are in nanoTON per million tokens.`,
		Example: `  tonmesh compute offers
  tonmesh compute infer --model stories260K "Once upon a time"
  tonmesh compute infer --model stories260K --max-price 30000000 "Tell a story"
  tonmesh compute infer --model stories260K --seed 42 --temperature 0.8 "Once"
  tonmesh compute worker status --json
  tonmesh compute proxy status`,
	}
	worker := &cobra.Command{Use: "worker", Short: "This node as a worker"}
	worker.AddCommand(newComputeWorkerStatusCmd(g))
	proxy := &cobra.Command{Use: "proxy", Short: "This node as a proxy"}
	proxy.AddCommand(newComputeProxyStatusCmd(g))
	cmd.AddCommand(newComputeOffersCmd(g), newComputeInferCmd(g), worker, proxy)
	return cmd
}

func newComputeOffersCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "offers",
		Short: "Live worker offers and proxies this node knows",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.computeClient()
			if err != nil {
				return err
			}
			v, err := c.Offers(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(v)
			}
			if len(v.Offers) == 0 {
				fmt.Println("no worker offers yet (workers gossip them every few seconds; set compute.roles = [\"worker\"] to serve)")
			} else {
				rows := [][]string{{"MODEL", "PRICE PROMPT", "PRICE COMPLETION", "LOAD", "ATTESTATION", "WORKER"}}
				for _, o := range v.Offers {
					pp, pc := o.PricePrompt, o.PriceCompletion
					if o.ClientPrompt != "" {
						pp, pc = o.ClientPrompt, o.ClientComplete
					}
					var models []string
					for _, m := range o.Models {
						models = append(models, m.ID)
					}
					rows = append(rows, []string{strings.Join(models, ","), pp, pc,
						strconv.Itoa(o.Running) + "/" + strconv.Itoa(o.Concurrency), o.Attestation, o.Worker})
				}
				table(rows)
			}
			for _, p := range v.Proxies {
				fmt.Printf("proxy %s (commission %g %%)\n", p.Peer, p.CommissionPercent)
			}
			return nil
		},
	}
	addJSONFlag(cmd, g)
	return cmd
}

func newComputeInferCmd(g *globalFlags) *cobra.Command {
	var (
		model, maxPrice string
		seed            int64
		temperature     float64
	)
	cmd := &cobra.Command{
		Use:   "infer --model M [--max-price P] [--seed S] [--temperature T] PROMPT",
		Short: "Run PROMPT on a worker serving model M, streaming the answer",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var opts compute.InferOptions
			if maxPrice != "" {
				cap, ok := new(big.Int).SetString(maxPrice, 10)
				if !ok || cap.Sign() < 0 {
					return fmt.Errorf("--max-price %q is not a whole number of nanoTON per million tokens (example: 30000000)", maxPrice)
				}
				opts.MaxPrice = cap
			}
			if cmd.Flags().Changed("seed") {
				opts.Seed = &seed
			}
			if cmd.Flags().Changed("temperature") {
				if temperature < 0 || temperature > 2 {
					return fmt.Errorf("--temperature %g: give a number from 0 (always the likeliest token) to 2", temperature)
				}
				opts.Temperature = &temperature
			}
			c, err := g.computeClient()
			if err != nil {
				return err
			}
			onToken := func(s string) { fmt.Print(s) }
			if g.json {
				onToken = func(string) {}
			}
			r, err := c.Infer(cmd.Context(), model, args[0], opts, onToken)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(r)
			}
			fmt.Println()
			if !r.Confidential {
				fmt.Fprintf(os.Stderr, "warning: worker %s is attested as %q: this answer was NOT confidential\n", r.Worker, r.Attestation)
			}
			fmt.Fprintf(os.Stderr, "%d prompt + %d completion tokens, cost %s nanoTON (worker %s via proxy %s)\n",
				r.Usage.PromptTokens, r.Usage.CompletionTokens, r.Cost, r.Worker, r.Proxy)
			return nil
		},
	}
	cmd.Flags().StringVar(&model, "model", "", "model to run (see `tonmesh compute offers`)")
	cmd.Flags().StringVar(&maxPrice, "max-price", "", "refuse workers above this many nanoTON per million completion tokens (default: compute.max_price)")
	cmd.Flags().Int64Var(&seed, "seed", 0, "sampling seed: the same seed, prompt, model and temperature give the same answer (default: random)")
	cmd.Flags().Float64Var(&temperature, "temperature", 0, "sampling temperature from 0 to 2; 0 always takes the likeliest token (default: the model's)")
	cmd.MarkFlagRequired("model")
	addJSONFlag(cmd, g)
	return cmd
}

func newComputeWorkerStatusCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Jobs, tokens and earnings of this node's worker",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.computeClient()
			if err != nil {
				return err
			}
			s, err := c.WorkerStatus(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(s)
			}
			if !s.Enabled {
				fmt.Println("this node is not a worker (add \"worker\" to compute.roles in config.toml)")
				return nil
			}
			var models []string
			for _, m := range s.Models {
				models = append(models, m.ID)
			}
			table([][]string{
				{"models", strings.Join(models, ", ")},
				{"price", s.PricePrompt + " prompt / " + s.PriceCompletion + " completion (nanoTON per 1M tokens)"},
				{"running", strconv.Itoa(s.Running) + " of " + strconv.Itoa(s.Concurrency)},
				{"jobs", fmt.Sprintf("%d done, %d failed", s.Jobs, s.Failed)},
				{"tokens", fmt.Sprintf("%d prompt, %d completion", s.PromptTokens, s.CompletionTokens)},
				{"earned", s.Earned + " nanoTON"},
				{"attestation", s.Attestation},
			})
			return nil
		},
	}
	addJSONFlag(cmd, g)
	return cmd
}

func newComputeProxyStatusCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Routing, billing and commission of this node's proxy",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.computeClient()
			if err != nil {
				return err
			}
			s, err := c.ProxyStatus(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(s)
			}
			if !s.Enabled {
				fmt.Println("this node is not a proxy (add \"proxy\" to compute.roles in config.toml)")
				return nil
			}
			table([][]string{
				{"commission", fmt.Sprintf("%g %%", s.CommissionPercent)},
				{"workers known", strconv.Itoa(s.Workers)},
				{"running", strconv.Itoa(s.Running)},
				{"jobs", fmt.Sprintf("%d done, %d failed, %d retried, %d refused", s.Jobs, s.Failed, s.Retries, s.Refused)},
				{"billed to clients", s.Billed + " nanoTON"},
				{"received", s.Received + " nanoTON"},
				{"paid to workers", s.PaidWorkers + " nanoTON"},
				{"commission earned", s.Commission + " nanoTON"},
			})
			return nil
		},
	}
	addJSONFlag(cmd, g)
	return cmd
}
