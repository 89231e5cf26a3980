package vault

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/tonmesh/tonmesh/internal/apiutil"
	"github.com/tonmesh/tonmesh/internal/wire"
	"github.com/tonmesh/tonmesh/vault/passport"
)

// Streamed reads on seven peers: an owner (k=2, n=4) whose striped puts use
// 64 KiB segments, so that a 3 MiB element has 48 stripes. In order:
//
//  1. WriteElement writes the element's encoding, announced with its size,
//     and the read holds no more chunk memory than streamAhead stripes of
//     the k holders it asks, not the element's 96 chunks.
//  2. A holder that vanishes midway through a read (its connection closed
//     once a quarter of the element is written) is replaced by a spare,
//     which skips the stripes opened already; the element reads back
//     whole.
//  3. A writer that fails stops the read with its error, and a read whose
//     context ends stops with the context's error.
//  4. Fields reads the element's data only as far as they go: the first
//     stripe or two of the 48.
//  5. Over the API, the content route streams the encoding with its
//     length, and the client decodes it file by file; when the holders
//     go midway (three of the four stopped after the first bytes), the
//     answer is cut off, not ended: its reader cannot take it for whole.
func TestVaultStreamedRead(t *testing.T) {
	ctx := context.Background()
	const segment = 64 << 10
	ns := startNodes(t, 7, Config{K: 2, N: 4, hedgeScale: 1000, segment: segment})
	owner := ns[1]
	scan := passportElement(t, "SR-PLAINTEXT-0311", 3<<20)
	want, err := scan.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := owner.v.Add(ctx, scan); err != nil {
		t.Fatal(err)
	}
	stripes := (len(want) + segment - 1) / segment
	step := steps(t)
	// read streams the element into a buffer, calling during (if set)
	// after each write with the bytes written so far.
	read := func(ctx context.Context, during func(written int) error) ([]byte, error) {
		var (
			out   bytes.Buffer
			opens int
		)
		err := owner.v.WriteElement(ctx, passport.TypePassport, func(info ElementInfo) (io.Writer, error) {
			if opens++; info.Size != len(want) || info.Type != passport.TypePassport {
				t.Errorf("open(%+v): want the passport's info, size %d", info, len(want))
			}
			return writerFunc(func(p []byte) (int, error) {
				out.Write(p)
				if during != nil {
					return len(p), during(out.Len())
				}
				return len(p), nil
			}), nil
		})
		if opens != 1 {
			t.Errorf("open called %d times, want once", opens)
		}
		return out.Bytes(), err
	}

	step("streamed read in bounded memory", func(t *testing.T) {
		reads, chunks := owner.v.shardReads.Load(), owner.v.readChunks.Load()
		got, err := read(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("streamed %d bytes, want the element's %d-byte encoding", len(got), len(want))
		}
		if n := owner.v.shardReads.Load() - reads; n != 2 {
			t.Fatalf("asked %d holders, want k = 2", n)
		}
		if n := owner.v.readChunks.Load() - chunks; n > 2*streamAhead || stripes < 4*streamAhead {
			t.Fatalf("the read of %d stripes took %d chunk buffers, want at most %d", stripes, n, 2*streamAhead)
		}
	})
	step("fields only", func(t *testing.T) {
		opened := owner.v.stripesRead.Load()
		e, err := owner.v.Fields(ctx, passport.TypePassport)
		if err != nil {
			t.Fatal(err)
		}
		if e.Type != passport.TypePassport || e.Data["document_no"] != "SR-PLAINTEXT-0311" || e.FrontSide != nil {
			t.Fatalf("Fields = %+v, want the passport's data and no files", e)
		}
		if n := owner.v.stripesRead.Load() - opened; n > 2 {
			t.Fatalf("reading the fields opened %d of the %d stripes, want the first one or two", n, stripes)
		}
		if _, err := owner.v.Fields(ctx, passport.TypeEmail); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Fields of a missing element: %v, want ErrNotFound", err)
		}
	})
	step("holder vanishes midway", func(t *testing.T) {
		owner.v.mu.Lock()
		first := owner.v.man.element(passport.TypePassport).Shards[0].Holder
		owner.v.mu.Unlock()
		var once sync.Once
		reads, reopened := owner.v.shardReads.Load(), owner.v.reopened.Load()
		got, err := read(ctx, func(written int) error {
			if written >= len(want)/4 {
				once.Do(func() { _ = owner.Net.Host().Network().ClosePeer(first) })
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("streamed %d bytes, want the element's %d-byte encoding", len(got), len(want))
		}
		if n, r := owner.v.shardReads.Load()-reads, owner.v.reopened.Load()-reopened; n != 3 || r != 0 {
			t.Fatalf("asked %d holders and reopened %d stripes, want k+1 = 3 and none (a holder gone is no altered chunk)", n, r)
		}
		got, err = read(ctx, nil)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("read after the holder came back: %d bytes, %v", len(got), err)
		}
	})
	step("writer fails, context ends", func(t *testing.T) {
		full := errors.New("disk full")
		got, err := read(ctx, func(written int) error {
			if written >= len(want)/2 {
				return full
			}
			return nil
		})
		if !errors.Is(err, full) || len(got) >= len(want) {
			t.Fatalf("read into a failing writer: %v after %d bytes, want the writer's error", err, len(got))
		}
		cctx, cancel := context.WithCancel(ctx)
		got, err = read(cctx, func(written int) error {
			if written >= len(want)/3 {
				cancel()
			}
			return nil
		})
		if !errors.Is(err, context.Canceled) || len(got) >= len(want) {
			t.Fatalf("read cancelled midway: %v after %d bytes, want context.Canceled", err, len(got))
		}
	})
	step("content route", func(t *testing.T) {
		c, srv := serveAPI(t, owner)
		mux := srv.Config.Handler
		var front []byte
		e, err := c.ReadElement(ctx, passport.TypePassport, func(f *passport.StreamedFile) error {
			b, err := io.ReadAll(f.Body)
			if f.Role != "front_side" || len(b) != f.Size || f.Head.Data["document_no"] != "SR-PLAINTEXT-0311" {
				t.Errorf("file %s of %d bytes, %d read, after the fields %v", f.Role, f.Size, len(b), f.Head.Data)
			}
			front = b
			return err
		})
		if err != nil || e.Data["document_no"] != "SR-PLAINTEXT-0311" || !bytes.Equal(front, scan.FrontSide.Bytes) {
			t.Fatalf("ReadElement: %+v, %d-byte scan, %v", e, len(front), err)
		}
		if _, err := c.ReadElement(ctx, passport.TypeEmail, nil); !apiutil.IsStatus(err, http.StatusNotFound) {
			t.Fatalf("ReadElement of a missing element: %v, want 404", err)
		}
		if e, err := c.Fields(ctx, passport.TypePassport); err != nil || e.Data["document_no"] != "SR-PLAINTEXT-0311" || e.FrontSide != nil {
			t.Fatalf("Fields over the API: %+v, %v", e, err)
		}
		if _, err := c.Fields(ctx, passport.TypeEmail); !apiutil.IsStatus(err, http.StatusNotFound) {
			t.Fatalf("Fields of a missing element: %v, want 404", err)
		}

		owner.v.mu.Lock()
		shards := owner.v.man.element(passport.TypePassport).Shards
		owner.v.mu.Unlock()
		rec := &cutWriter{ResponseRecorder: httptest.NewRecorder(), first: func() {
			for _, s := range shards[1:] {
				byPeer(ns, s.Holder.String()).stop()
			}
		}}
		req := httptest.NewRequest(http.MethodGet, "/api/v1/passport/elements/passport/content", nil)
		if aborted := serve(mux, rec, req); aborted != http.ErrAbortHandler {
			t.Fatalf("answer with the holders gone midway: handler ended with %v, want http.ErrAbortHandler", aborted)
		}
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Length") != strconv.Itoa(len(want)) || rec.Body.Len() >= len(want) {
			t.Fatalf("cut-off answer: status %d, length %s, %d bytes sent of %d", rec.Code, rec.Header().Get("Content-Length"), rec.Body.Len(), len(want))
		}
		if _, err := passport.DecodeElementFrom(rec.Body, func(*passport.StreamedFile) error { return nil }); !errors.Is(err, wire.ErrTruncated) {
			t.Fatalf("decoding the cut-off answer: %v, want wire.ErrTruncated", err)
		}
	})
}

// cutWriter calls first once, after the first bytes of the answer.
type cutWriter struct {
	*httptest.ResponseRecorder
	first func()
	once  sync.Once
}

func (w *cutWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseRecorder.Write(p)
	w.once.Do(w.first)
	return n, err
}

// serve runs h and returns what it panicked with, if anything.
func serve(h http.Handler, w http.ResponseWriter, r *http.Request) (aborted any) {
	defer func() { aborted = recover() }()
	h.ServeHTTP(w, r)
	return nil
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
