package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/tonmesh/tonmesh/internal/apiutil"
	"github.com/tonmesh/tonmesh/internal/benchutil"
	"github.com/tonmesh/tonmesh/internal/harness/peers"
	"github.com/tonmesh/tonmesh/vault"
	"github.com/tonmesh/tonmesh/vault/passport"
)

// cluster is the owner and the holders, each a bare peer with a vault.
type cluster struct {
	peers  []*peers.Peer
	vaults []*vault.Vault
}

func (cl *cluster) stop() {
	for _, v := range cl.vaults {
		v.Stop()
	}
	for _, p := range cl.peers {
		p.Stop()
	}
}

func startCluster(ctx context.Context, dir string, c benchConfig) (*cluster, error) {
	ps, err := peers.Launch(ctx, dir, c.n+1)
	cl := &cluster{peers: ps}
	if err != nil {
		return cl, fmt.Errorf("start %d nodes: %w", c.n+1, err)
	}
	// With -v the vault's own logs (per put: encode, lookup, place, save
	// and publish times) go to stderr too.
	log := slog.New(slog.DiscardHandler)
	if c.verbose {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	for _, p := range ps {
		v, err := vault.New(p.Store, p.Net, p.Identity, vault.Config{K: c.k, N: c.n, AuditInterval: time.Hour}, log)
		if err != nil {
			return cl, err
		}
		if err := v.Start(ctx); err != nil {
			return cl, err
		}
		cl.vaults = append(cl.vaults, v)
	}
	return cl, nil
}

// run measures everything; failures are collected, not fatal, so that one
// broken figure still leaves the others.
func run(ctx context.Context, c benchConfig, p *benchutil.Progress) *Result {
	start := time.Now()
	res := &Result{Machine: benchutil.ThisMachine(), Config: Config{Nodes: c.n + 1, K: c.k, N: c.n}}
	fail := func(format string, args ...any) {
		res.Failures = append(res.Failures, fmt.Sprintf(format, args...))
	}
	dir := c.dir
	if dir == "" {
		d, err := os.MkdirTemp("", "bench-vault-")
		if err != nil {
			fail("temporary directory: %v", err)
			return res
		}
		defer os.RemoveAll(d)
		dir = d
	}
	// Raw crypto first, while no node runs beside it.
	largest := 0
	for _, s := range c.sizes {
		largest = max(largest, s)
	}
	p.Printf("raw AES-256-GCM + Reed-Solomon %d+%d on %s", c.k, c.n-c.k, label(largest))
	res.Raw.CryptoBytes = largest
	var err error
	if res.Raw.SealSplitMBps, res.Raw.RebuildOpenMBp, err = rawCrypto(largest, c.k, c.n); err != nil {
		fail("raw crypto: %v", err)
	}

	p.Printf("starting %d nodes on 127.0.0.1 under %s", c.n+1, dir)
	cl, err := startCluster(ctx, dir, c)
	defer cl.stop()
	if err != nil {
		fail("%v", err)
		return res
	}
	owner, ov := cl.peers[0], cl.vaults[0]

	p.Printf("raw stream throughput, %d MiB per measure", c.rawMiB)
	res.Raw.StreamBytes = c.rawMiB << 20
	if res.Raw.StreamOneMBps, err = streamOne(ctx, owner, cl.peers[1], res.Raw.StreamBytes); err != nil {
		fail("raw stream to one holder: %v", err)
	}
	if res.Raw.StreamAllMBps, err = streamAll(ctx, owner, cl.peers[1:], res.Raw.StreamBytes); err != nil {
		fail("raw streams to all holders: %v", err)
	}
	// The holders' disk: the shards of the largest element (up to 32 MiB
	// each), written by all n at once.
	res.Raw.DurableBytes = min((largest+c.k-1)/c.k, 32<<20)
	p.Printf("raw durable writes, %d files of %s at once", c.n, label(res.Raw.DurableBytes))
	if times, err := benchutil.DurableWrites(dir, c.n, res.Raw.DurableBytes, 10); err != nil {
		fail("%v", err)
	} else {
		res.Raw.DurableMBps = mbps(c.n*res.Raw.DurableBytes*len(times), benchutil.Total(times))
	}

	if c.cpuProf != "" {
		stopProfile, err := benchutil.StartCPUProfile(c.cpuProf)
		if err != nil {
			fail("%v", err)
			return res
		}
		defer stopProfile()
	}
	for _, size := range c.sizes {
		if ctx.Err() != nil {
			fail("interrupted")
			break
		}
		ops := opsFor(c, size)
		p.Printf("vault put/get of %s elements, %d each", label(size), ops)
		sr, err := measureVault(ctx, ov, size, ops, p)
		if err != nil {
			fail("vault %s: %v", label(size), err)
			continue
		}
		sr.Ratios = Ratios{
			PutVsStream: ratio(sr.Put.MBps, res.Raw.StreamAllMBps),
			GetVsStream: ratio(sr.Get.MBps, res.Raw.StreamAllMBps),
			PutVsCrypto: ratio(sr.Put.MBps, res.Raw.SealSplitMBps),
			PutVsDisk:   ratio(sr.Put.MBps, res.Raw.DurableMBps),
			GetVsCrypto: ratio(sr.Get.MBps, res.Raw.RebuildOpenMBp),
		}
		res.Sizes = append(res.Sizes, sr)
	}
	res.TookS = elapsed(start)
	return res
}

// maxScans is the files a passport element carries at most: its front
// side and its translation pages (no selfie in the bench).
const maxScans = 1 + passport.MaxFiles

// element is a passport whose scans (JPEG-looking random bytes) are size
// bytes in all: the front side, and past MaxFileSize translation pages of
// up to MaxFileSize each.
func element(size int) (*passport.Element, error) {
	var scans []passport.File
	for left := size; left > 0; {
		n := min(left, passport.MaxFileSize)
		scan := make([]byte, n)
		if _, err := rand.Read(scan); err != nil {
			return nil, err
		}
		copy(scan, []byte{0xFF, 0xD8, 0xFF, 0xE0})
		scans = append(scans, passport.File{Name: fmt.Sprintf("scan%d.jpg", len(scans)+1), MIME: passport.MIMEJPEG, Bytes: scan})
		left -= n
	}
	e := &passport.Element{
		Type:      passport.TypePassport,
		Data:      map[string]string{"document_no": "BENCH-0001"},
		FrontSide: &scans[0],
	}
	if len(scans) > 1 {
		e.Translation = scans[1:]
	}
	return e, e.Validate()
}

// measureVault adds, reads back and (untimed) deletes an element ops
// times, and uploads it over the API (untimed: deletes it again).
func measureVault(ctx context.Context, v *vault.Vault, size, ops int, p *benchutil.Progress) (SizeResult, error) {
	sr := SizeResult{Label: label(size)}
	el, err := element(size)
	if err != nil {
		return sr, err
	}
	want, err := el.Marshal()
	if err != nil {
		return sr, err
	}
	sr.ElementBytes = len(want)
	api, stopAPI, err := serveAPI(v)
	if err != nil {
		return sr, err
	}
	defer stopAPI()
	var put, get, stream, upload opTimes
	for i := range ops {
		if err := put.run(ctx, "put", sr.Label, func(ctx context.Context) error { _, err := v.Add(ctx, el); return err }); err != nil {
			return sr, fmt.Errorf("put %d: %w", i+1, err)
		}
		var got *passport.Element
		if err := get.run(ctx, "get", sr.Label, func(ctx context.Context) (err error) {
			got, err = v.Element(ctx, passport.TypePassport)
			return err
		}); err != nil {
			return sr, fmt.Errorf("get %d: %w", i+1, err)
		}
		if i == 0 {
			b, err := got.Marshal()
			if err != nil || !bytes.Equal(b, want) {
				return sr, fmt.Errorf("get 1: the element read back differs from the one stored (%v)", err)
			}
		}
		if err := stream.run(ctx, "stream", sr.Label, func(ctx context.Context) error {
			return v.WriteElement(ctx, passport.TypePassport, func(vault.ElementInfo) (io.Writer, error) { return io.Discard, nil })
		}); err != nil {
			return sr, fmt.Errorf("stream %d: %w", i+1, err)
		}
		if err := v.Delete(ctx, passport.TypePassport); err != nil {
			return sr, fmt.Errorf("delete %d: %w", i+1, err)
		}
		if err := upload.run(ctx, "upload", sr.Label, func(ctx context.Context) error { _, err := api.Upload(ctx, el); return err }); err != nil {
			return sr, fmt.Errorf("upload %d: %w", i+1, err)
		}
		if err := v.Delete(ctx, passport.TypePassport); err != nil {
			return sr, fmt.Errorf("delete %d: %w", i+1, err)
		}
		p.Debugf("%s op %d: put %v get %v stream %v upload %v", sr.Label, i+1, put.runs[i], get.runs[i], stream.runs[i], upload.runs[i])
	}
	sr.Put, sr.Get, sr.Stream, sr.Upload = put.op(sr.ElementBytes), get.op(sr.ElementBytes), stream.op(sr.ElementBytes), upload.op(sr.ElementBytes)
	return sr, nil
}

// serveAPI serves v's routes of the local API on a loopback port and
// returns a client of them.
func serveAPI(v *vault.Vault) (*vault.Client, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, fmt.Errorf("listen for the API: %w", err)
	}
	mux := http.NewServeMux()
	v.Routes(func(pattern string, h http.Handler) { mux.Handle(pattern, h) })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	stop := func() {
		_ = srv.Close()
		<-done
	}
	return vault.NewClient(apiutil.NewClient("http://"+ln.Addr().String(), "")), stop, nil
}

// opTimes is the runs of one operation.
type opTimes struct {
	runs       []time.Duration
	total, cpu time.Duration
	alloc      uint64
}

// run runs f once, timed, under the profile label op (go tool pprof
// -tagfocus op=put; goroutines inherit it), counting the CPU time and the
// heap it took (ReadMemStats stops the world: it is not timed).
func (o *opTimes) run(ctx context.Context, op, size string, f func(context.Context) error) error {
	a0 := totalAlloc()
	c0, t0 := benchutil.ProcessCPU(), time.Now()
	var err error
	pprof.Do(ctx, pprof.Labels("op", op, "size", size), func(ctx context.Context) { err = f(ctx) })
	d := time.Since(t0)
	o.cpu += benchutil.ProcessCPU() - c0
	o.alloc += allocated(a0)
	o.runs, o.total = append(o.runs, d), o.total+d
	return err
}

// op is the figures of the runs, of an element of size bytes each.
func (o *opTimes) op(size int) Op {
	n := len(o.runs)
	return Op{
		MBps:     mbps(size*n, o.total),
		Latency:  benchutil.Summarize(o.runs, 0),
		Cores:    ratio(o.cpu.Seconds(), o.total.Seconds()),
		AllocMiB: ratio(float64(o.alloc)/float64(max(n, 1)), 1<<20),
	}
}

// totalAlloc is the heap bytes allocated so far, by every node of the
// process.
func totalAlloc() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

// allocated is the heap bytes allocated since totalAlloc returned since.
func allocated(since uint64) uint64 { return totalAlloc() - since }

// ratio is a/b to three significant digits (small elements are far below
// the raw limits), or 0 when either is 0.
func ratio(a, b float64) float64 {
	if a == 0 || b == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(strconv.FormatFloat(a/b, 'g', 3, 64), 64)
	return v
}

// mbps is bytes per d in MB (10^6 bytes) per second, rounded.
func mbps(bytes int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return ratio(float64(bytes)/1e6, d.Seconds())
}
