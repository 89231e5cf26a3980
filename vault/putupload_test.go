package vault

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tonmesh/tonmesh/vault/passport"
)

// Streamed puts on seven peers: an owner (k=2, n=4) whose striped puts use
// 64 KiB segments, so that a 3 MiB element has 48 stripes, six times the
// ring's slots. In order:
//
//  1. An element uploaded in its binary encoding (PUT …/content) is
//     stored as it arrives and reads back whole; a small one (not
//     striped) too.
//  2. An upload of another type than its URL's, of an invalid element, or
//     cut off midway is refused (400, naming what is wrong), and leaves
//     no shard on any holder and nothing in the manifest; a body of
//     another media type or of no announced length is refused before it
//     is read (415, 411).
func TestVaultStreamedPut(t *testing.T) {
	ctx := context.Background()
	const segment = 64 << 10
	ns := startNodes(t, 7, Config{K: 2, N: 4, hedgeScale: 1000, segment: segment})
	owner := ns[1]
	c, srv := serveAPI(t, owner)
	scan := passportElement(t, "UP-PLAINTEXT-0512", 3<<20)
	if stripes := (scan.Size() + segment - 1) / segment; stripes < 4*ringStripes {
		t.Fatalf("%d stripes: the test wants the ring's slots reused", stripes)
	}
	stored := func() int { return storedShards(ns) }
	step := steps(t)

	step("upload", func(t *testing.T) {
		info, err := c.Upload(ctx, scan)
		if err != nil {
			t.Fatal(err)
		}
		if info.Type != passport.TypePassport || info.Size != scan.Size() || info.Reachable != 4 {
			t.Fatalf("Upload = %+v", info)
		}
		got, err := owner.v.Element(ctx, passport.TypePassport)
		if err != nil {
			t.Fatal(err)
		}
		sameElement(t, got, scan)
		small := personalDetails("Uma")
		if _, err := c.Upload(ctx, small); err != nil {
			t.Fatal(err)
		}
		if got, err = owner.v.Element(ctx, passport.TypePersonalDetails); err != nil {
			t.Fatal(err)
		}
		sameElement(t, got, small)
		if n := stored(); n != 8 {
			t.Fatalf("%d shards stored, want the two elements' 8", n)
		}
	})

	step("refused uploads keep nothing", func(t *testing.T) {
		put := func(t *testing.T, typ, contentType string, body io.Reader, size int64) (int, string) {
			t.Helper()
			req, err := http.NewRequestWithContext(ctx, http.MethodPut, srv.URL+"/api/v1/passport/elements/"+typ+"/content", body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", contentType)
			req.ContentLength = size
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return 0, err.Error()
			}
			defer resp.Body.Close()
			msg, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(msg)
		}
		enc, err := scan.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		lying := passportElement(t, "UP-LYING-0512", 3<<20)
		lying.FrontSide.MIME = passport.MIMEPDF
		lie, err := lying.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		owner.v.mu.Lock()
		held, elements := stored(), len(owner.v.man.Elements)
		owner.v.mu.Unlock()
		cases := []struct {
			name, typ, contentType string
			body                   io.Reader
			size                   int64
			status                 int
			says                   string
		}{
			{"another type", "driver_license", ContentType, bytes.NewReader(enc), int64(len(enc)), http.StatusBadRequest, "is a passport, not a driver_license"},
			{"invalid element", "passport", ContentType, bytes.NewReader(lie), int64(len(lie)), http.StatusBadRequest, "front_side"},
			{"truncated", "passport", ContentType, bytes.NewReader(enc[:len(enc)-1]), int64(len(enc) - 1), http.StatusBadRequest, "truncated"},
			{"JSON", "passport", "application/json", strings.NewReader("{}"), 2, http.StatusUnsupportedMediaType, ContentType},
			{"no length", "passport", ContentType, io.MultiReader(bytes.NewReader(enc)), -1, http.StatusLengthRequired, "Content-Length"},
		}
		for _, tc := range cases {
			status, msg := put(t, tc.typ, tc.contentType, tc.body, tc.size)
			if status != tc.status || !strings.Contains(msg, tc.says) {
				t.Errorf("%s: %d %s, want %d naming %q", tc.name, status, msg, tc.status, tc.says)
			}
		}
		// Cut off midway: the client's body fails after a third of it.
		cut := io.MultiReader(bytes.NewReader(enc[:len(enc)/3]), errReader{errors.New("scanner unplugged")})
		if status, msg := put(t, "passport", ContentType, cut, int64(len(enc))); status != 0 || !strings.Contains(msg, "scanner unplugged") {
			t.Errorf("cut-off upload: %d %s, want the client's own error", status, msg)
		}
		srv.Close() // waits for the handlers, the cut-off upload's too
		if n := stored(); n != held {
			t.Fatalf("%d shards stored after the refused uploads, %d before", n, held)
		}
		owner.v.mu.Lock()
		now := len(owner.v.man.Elements)
		owner.v.mu.Unlock()
		if now != elements {
			t.Fatalf("%d elements in the manifest after the refused uploads, %d before", now, elements)
		}
		got, err := owner.v.Element(ctx, passport.TypePassport)
		if err != nil {
			t.Fatal(err)
		}
		sameElement(t, got, scan)
	})
}

// errReader fails every read with err.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
