package share

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/tonmesh/tonmesh/internal/harness/peers"
	"github.com/tonmesh/tonmesh/ledger/journal"
	"github.com/tonmesh/tonmesh/vault/passport"
)

// memSource is an in-memory Source.
type memSource struct {
	mu sync.Mutex
	m  map[passport.ElementType]*passport.Element
}

func newSource(els ...*passport.Element) *memSource {
	s := &memSource{m: map[passport.ElementType]*passport.Element{}}
	for _, e := range els {
		s.m[e.Type] = e
	}
	return s
}

func (s *memSource) Element(_ context.Context, t passport.ElementType) (*passport.Element, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[t]
	if !ok {
		return nil, fmt.Errorf("vault: no %s", t)
	}
	return e.Clone(), nil
}

func (s *memSource) Types(context.Context) ([]passport.ElementType, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []passport.ElementType
	for t := range s.m {
		out = append(out, t)
	}
	return out, nil
}

// memJournal records entries.
type memJournal struct {
	mu      sync.Mutex
	entries []journal.Entry
}

func (j *memJournal) Record(_ context.Context, e journal.Entry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.entries = append(j.entries, e)
	return nil
}

func (j *memJournal) keys() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []string
	for _, e := range j.entries {
		out = append(out, string(e.Kind)+" "+e.Key)
	}
	return out
}

func testConfig() Config { return Config{DeliverTimeout: 20 * time.Second} }

// startShare runs a share service on p until the test ends.
func startShare(t *testing.T, p *peers.Peer, src Source, j Journal) *Service {
	t.Helper()
	s, err := New(p.Store, p.Net, p.Identity, src, j, testConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

var (
	keyOnce sync.Once
	keyPEM  string
	pubPEM  string
)

// serviceKeys returns the fixed test RSA key pair (PEM) of the passport
// package's testdata.
func serviceKeys(t testing.TB) (priv, pub string) {
	t.Helper()
	keyOnce.Do(func() {
		b, err := os.ReadFile("../passport/testdata/service_key.pem")
		if err != nil {
			panic(err)
		}
		k, err := passport.ParsePrivateKey(string(b))
		if err != nil {
			panic(err)
		}
		keyPEM = string(b)
		if pubPEM, err = passport.EncodePublicKey(&k.PublicKey); err != nil {
			panic(err)
		}
	})
	return keyPEM, pubPEM
}

func jpeg(tag string) *passport.File {
	return &passport.File{Name: tag + ".jpg", MIME: passport.MIMEJPEG, Bytes: append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, []byte("scan "+tag)...)}
}

func personal() *passport.Element {
	return &passport.Element{Type: passport.TypePersonalDetails, Data: map[string]string{
		"first_name": "Anna", "last_name": "Schmidt", "birth_date": "01.02.1990", "gender": "female",
		"country_code": "DE", "residence_country_code": "DE", "first_name_native": "Анна",
	}}
}

func idCard() *passport.Element {
	return &passport.Element{Type: passport.TypeIdentityCard,
		Data:      map[string]string{"document_no": "L01X00T47", "expiry_date": "01.01.2032"},
		FrontSide: jpeg("front"), ReverseSide: jpeg("back"), Selfie: jpeg("selfie"),
		Translation: []passport.File{*jpeg("translation")}}
}

func address() *passport.Element {
	return &passport.Element{Type: passport.TypeAddress, Data: map[string]string{
		"street_line1": "Hauptstr. 5", "city": "Köln", "country_code": "DE", "post_code": "50667"}}
}

// waitFor polls cond until it holds, failing after a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cluster is three peers shared by the tests of the package (starting
// peers is the slow part): svc issues requests, user owns a full set of
// documents, other owns personal details only and acts as a second
// service or a stranger. Tests tell their data apart by request ID.
type cluster struct {
	ps               []*peers.Peer
	svc, user, other *Service
	userJournal      *memJournal
	dir              string
}

var (
	clusterOnce sync.Once
	shared      *cluster
	clusterErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.close()
	}
	os.Exit(code)
}

func getCluster(t *testing.T) *cluster {
	t.Helper()
	clusterOnce.Do(func() { shared, clusterErr = launchCluster() })
	if clusterErr != nil {
		t.Fatalf("start the shared cluster: %v", clusterErr)
	}
	return shared
}

func launchCluster() (*cluster, error) {
	dir, err := os.MkdirTemp("", "vault-share-test")
	if err != nil {
		return nil, err
	}
	c := &cluster{dir: dir, userJournal: &memJournal{}}
	c.ps, err = peers.Launch(context.Background(), dir, 3)
	if err != nil {
		c.close()
		return nil, err
	}
	srcs := []Source{nil, newSource(personal(), idCard(), address()), newSource(personal())}
	jrnls := []Journal{nil, c.userJournal, nil}
	svcs := make([]*Service, 3)
	for i, p := range c.ps {
		if svcs[i], err = New(p.Store, p.Net, p.Identity, srcs[i], jrnls[i], testConfig(), nil); err == nil {
			err = svcs[i].Start(context.Background())
		}
		if err != nil {
			c.close()
			return nil, err
		}
	}
	c.svc, c.user, c.other = svcs[0], svcs[1], svcs[2]
	return c, nil
}

func (c *cluster) close() {
	for _, s := range []*Service{c.svc, c.user, c.other} {
		if s != nil {
			s.Stop()
		}
	}
	for _, p := range c.ps {
		p.Stop()
	}
	os.RemoveAll(c.dir)
}

// pendingByID finds request id among s's pending requests.
func pendingByID(t *testing.T, s *Service, id string) *PendingView {
	t.Helper()
	ps, err := s.Pending(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i := range ps {
		if ps[i].ID == id {
			return &ps[i]
		}
	}
	return nil
}
