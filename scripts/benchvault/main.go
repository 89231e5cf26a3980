package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tonmesh/tonmesh/internal/benchutil"
	"github.com/tonmesh/tonmesh/vault/passport"
)

// benchConfig is the parsed command line.
type benchConfig struct {
	sizes   []int // element scan sizes in bytes
	ops     int   // operations per size; 0: by size
	k, n    int
	rawMiB  int // MiB sent per raw stream measure
	dir     string
	json    bool
	verbose bool
	cpuProf string // CPU profile of the vault operations (not the raw measures)
}

// Result is everything one run measured; --json prints it.
type Result struct {
	Machine  benchutil.Machine `json:"machine"`
	Config   Config            `json:"config"`
	Sizes    []SizeResult      `json:"sizes"`
	Raw      Raw               `json:"raw"`
	Failures []string          `json:"failures,omitempty"`
	TookS    float64           `json:"took_s"`
}

// Config is what the run was asked to do.
type Config struct {
	Nodes int `json:"nodes"` // owner + n holders
	K     int `json:"k"`
	N     int `json:"n"`
}

// SizeResult is the vault's figures for one element size. MB are 10^6
// bytes of the element (the plaintext the user stores).
type SizeResult struct {
	Label        string `json:"label"`
	ElementBytes int    `json:"element_bytes"`
	Put          Op     `json:"put"`    // Add: encrypt, split, push n shards, durable manifest, DHT publish
	Get          Op     `json:"get"`    // Element: fetch k shards in parallel, decode, decrypt, whole in memory
	Stream       Op     `json:"stream"` // WriteElement to io.Discard: a striped element stripe by stripe
	Upload       Op     `json:"upload"` // PUT …/content over the local API: Add from the binary encoding as it arrives
	Ratios       Ratios `json:"ratios"`
}

// Op is a throughput and the latency of the operations behind it.
type Op struct {
	MBps    float64           `json:"mb_per_s"` // element bytes / time, operations one after another
	Latency benchutil.Latency `json:"latency"`
	// Cores is the CPU time of the whole process (owner and holders) over
	// the operations' time: how many of the machine's cores they kept busy.
	Cores float64 `json:"cpu_cores"`
	// AllocMiB is the heap allocated per operation by the whole process
	// (the holders' side too; an upload's client too).
	AllocMiB float64 `json:"alloc_mib_per_op,omitempty"`
}

// Raw is the floor under the vault, measured in the same run between the
// same nodes.
type Raw struct {
	StreamBytes   int     `json:"stream_bytes"`
	StreamOneMBps float64 `json:"stream_one_holder_mb_per_s"`  // owner -> one holder, one stream
	StreamAllMBps float64 `json:"stream_all_holders_mb_per_s"` // owner -> n holders, n streams at once, in all
	// DurableMBps is the stores' disk alone: each of n files appended a
	// shard's worth (DurableBytes) and fsynced, all at once, in all.
	DurableBytes   int     `json:"durable_bytes_per_file"`
	DurableMBps    float64 `json:"durable_all_holders_mb_per_s"`
	CryptoBytes    int     `json:"crypto_bytes"`
	SealSplitMBps  float64 `json:"aes_gcm_seal_rs_encode_mb_per_s"` // AES-256-GCM seal + Reed-Solomon k+(n-k) encode
	RebuildOpenMBp float64 `json:"rs_reconstruct_aes_gcm_open_mb_per_s"`
}

// Ratios put the vault beside its raw limits (1.0 = as fast as the raw
// figure).
type Ratios struct {
	PutVsStream float64 `json:"put_per_stream_all"` // put MB/s / raw stream to all holders
	GetVsStream float64 `json:"get_per_stream_all"` // get MB/s / raw stream to all holders
	PutVsCrypto float64 `json:"put_per_seal_split"` // put MB/s / raw seal + encode
	PutVsDisk   float64 `json:"put_per_durable"`    // put MB/s / raw durable writes to all holders' files
	GetVsCrypto float64 `json:"get_per_rebuild_open"`
}

func parseFlags(args []string) (benchConfig, error) {
	c := benchConfig{}
	fs := flag.NewFlagSet("bench-vault", flag.ContinueOnError)
	sizes := fs.String("sizes", "1KiB,1MiB,10MiB", "element scan sizes, comma-separated (B, KiB, MiB; at most 220MiB: over 10MiB the scans are split into 10 MiB translation pages)")
	fs.IntVar(&c.ops, "ops", 0, "puts and gets per size (0: 40 up to 64 KiB, 12 up to 2 MiB, 5 above)")
	fs.IntVar(&c.k, "k", 4, "shards needed to restore an element")
	fs.IntVar(&c.n, "n", 6, "shards per element; the network has n+1 nodes")
	fs.IntVar(&c.rawMiB, "raw-mib", 64, "MiB sent per raw stream measure")
	fs.StringVar(&c.dir, "dir", "", "directory for the nodes' stores (default: a temporary one)")
	fs.BoolVar(&c.json, "json", false, "print the results as JSON")
	fs.StringVar(&c.cpuProf, "cpuprofile", "", "write a CPU profile of the vault puts and gets (not the raw measures) to this file (read it with `go tool pprof`)")
	fs.BoolVar(&c.verbose, "v", false, "more progress on stderr, with the vault's log of each put's phases")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for _, s := range strings.Split(*sizes, ",") {
		n, err := parseSize(strings.TrimSpace(s))
		if err != nil {
			return c, fmt.Errorf("--sizes: %w", err)
		}
		c.sizes = append(c.sizes, n)
	}
	switch {
	case c.ops < 0:
		return c, errors.New("--ops must be 0 (by size) or positive")
	case c.k < 1 || c.n < c.k || c.n > 32:
		return c, fmt.Errorf("--k %d --n %d: need 1 <= k <= n <= 32", c.k, c.n)
	case c.rawMiB < 1 || c.rawMiB > 4096:
		return c, errors.New("--raw-mib must be 1..4096")
	}
	if c.dir != "" {
		if st, err := os.Stat(c.dir); err != nil || !st.IsDir() {
			return c, fmt.Errorf("--dir %s is not a directory", c.dir)
		}
	}
	return c, nil
}

// parseSize reads "1KiB", "10MiB" or a number of bytes.
func parseSize(s string) (int, error) {
	mult := 1
	num := s
	for _, u := range []struct {
		suffix string
		mult   int
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"B", 1}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			num, mult = v, u.mult
			break
		}
	}
	n, err := strconv.Atoi(num)
	if err != nil || n*mult < 16 || n*mult > maxScans*passport.MaxFileSize {
		return 0, fmt.Errorf("%q: use 16B to %dMiB, e.g. 1KiB or 10MiB", s, maxScans*passport.MaxFileSize>>20)
	}
	return n * mult, nil
}

// label writes a size the way the flag reads it.
func label(n int) string {
	switch {
	case n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + " MiB"
	case n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + " KiB"
	}
	return strconv.Itoa(n) + " B"
}

// opsFor is how many puts and gets a size gets by default.
func opsFor(c benchConfig, size int) int {
	switch {
	case c.ops > 0:
		return c.ops
	case size <= 64<<10:
		return 40
	case size <= 2<<20:
		return 12
	}
	return 5
}

func main() {
	cmd := benchutil.Command{Name: "bench-vault", Stdout: os.Stdout, Stderr: os.Stderr}
	c, err := parseFlags(os.Args[1:])
	if err != nil {
		os.Exit(cmd.FlagStatus(err))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res := run(ctx, c, cmd.Progress(c.verbose))
	os.Exit(cmd.Finish(c.json, res, func(w io.Writer) { printTable(w, res) }, res.Failures))
}

// elapsed is the time since start in seconds, rounded.
func elapsed(start time.Time) float64 { return benchutil.Seconds(time.Since(start)) }
