package attest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"testing"
	"time"
)

// fakeTSM imitates the configfs-tsm report directory: entries are created
// with MkdirTemp; writing inblob bumps the generation; outblob is a fake
// quote made of the provider's name and the inblob; auxblob is a fixed
// certificate table. It records what the attester did.
type fakeTSM struct {
	provider string
	aux      []byte
	// meddle, when set, bumps the generation when outblob is read, as if
	// another process wrote the entry at the same time.
	meddle  bool
	entries map[string]*fakeEntry
	n       int
}

type fakeEntry struct {
	inblob []byte
	gen    int
}

type fakeInfo struct{ fs.FileInfo }

func newFakeTSM(provider string) *fakeTSM {
	return &fakeTSM{provider: provider, entries: map[string]*fakeEntry{}}
}

func (f *fakeTSM) Stat(name string) (fs.FileInfo, error) {
	if name != "/tsm" {
		return nil, fs.ErrNotExist
	}
	return fakeInfo{}, nil
}

func (f *fakeTSM) MkdirTemp(dir, pattern string) (string, error) {
	f.n++
	name := path.Join(dir, fmt.Sprintf("%s%d", pattern, f.n))
	f.entries[name] = &fakeEntry{}
	return name, nil
}

func (f *fakeTSM) Remove(name string) error {
	if _, ok := f.entries[name]; !ok {
		return fs.ErrNotExist
	}
	delete(f.entries, name)
	return nil
}

func (f *fakeTSM) entry(name string) (*fakeEntry, string, error) {
	e, ok := f.entries[path.Dir(name)]
	if !ok {
		return nil, "", fs.ErrNotExist
	}
	return e, path.Base(name), nil
}

func (f *fakeTSM) WriteFile(name string, data []byte) error {
	e, attr, err := f.entry(name)
	if err != nil {
		return err
	}
	if attr != "inblob" || len(data) != 64 {
		return fs.ErrInvalid
	}
	e.inblob = bytes.Clone(data)
	e.gen++
	return nil
}

func (f *fakeTSM) ReadFile(name string) ([]byte, error) {
	e, attr, err := f.entry(name)
	if err != nil {
		return nil, err
	}
	switch attr {
	case "provider":
		return []byte(f.provider + "\n"), nil
	case "generation":
		return []byte(fmt.Sprintf("%d\n", e.gen)), nil
	case "outblob":
		if e.inblob == nil {
			return nil, fs.ErrInvalid
		}
		if f.meddle {
			e.gen++
		}
		return append([]byte("quote:"+f.provider+":"), e.inblob...), nil
	case "auxblob":
		if f.aux == nil {
			return nil, fs.ErrNotExist
		}
		return f.aux, nil
	}
	return nil, fs.ErrNotExist
}

func TestTSMAttesterTDX(t *testing.T) {
	f := newFakeTSM(providerTDX)
	a, err := newTSMAttester(f, "/tsm", TDX)
	if err != nil {
		t.Fatal(err)
	}
	c := testClaims()
	ev, err := a.Attest(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	rd := ReportData(c)
	if ev.Kind != TDX || !bytes.Equal(ev.Quote, append([]byte("quote:tdx_guest:"), rd[:]...)) {
		t.Fatalf("evidence = %s %q, want the TSM's quote over ReportData(claims)", ev.Kind, ev.Quote)
	}
	if len(f.entries) != 0 {
		t.Fatalf("%d report entries left behind", len(f.entries))
	}
}

func TestTSMAttesterSEVAppendsCertTable(t *testing.T) {
	f := newFakeTSM(providerSEV)
	f.aux = []byte("certtable")
	a, err := newTSMAttester(f, "/tsm", SEVSNP)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := a.Attest(context.Background(), testClaims())
	if err != nil {
		t.Fatal(err)
	}
	if ev.Kind != SEVSNP || !bytes.HasSuffix(ev.Quote, []byte("certtable")) || !bytes.HasPrefix(ev.Quote, []byte("quote:sev_guest:")) {
		t.Fatalf("evidence = %s %q, want report then certificate table", ev.Kind, ev.Quote)
	}
	f.aux = nil
	if _, err := a.Attest(context.Background(), testClaims()); err == nil || !strings.Contains(err.Error(), "certificate table") {
		t.Fatalf("Attest without auxblob = %v, want an error naming the certificate table", err)
	}
}

func TestTSMAttesterRefuses(t *testing.T) {
	if _, err := newTSMAttester(newFakeTSM(providerSEV), "/tsm", TDX); err == nil || !strings.Contains(err.Error(), "not a tdx guest") {
		t.Fatalf("TDX attester on an SEV guest = %v, want a provider error", err)
	}
	if _, err := newTSMAttester(newFakeTSM(providerTDX), "/elsewhere", TDX); err == nil || !strings.Contains(err.Error(), "configfs-tsm") {
		t.Fatalf("TDX attester without configfs-tsm = %v, want an error naming configfs-tsm", err)
	}
	f := newFakeTSM(providerTDX)
	a, err := newTSMAttester(f, "/tsm", TDX)
	if err != nil {
		t.Fatal(err)
	}
	f.meddle = true
	if _, err := a.Attest(context.Background(), testClaims()); err == nil || !strings.Contains(err.Error(), "another process") {
		t.Fatalf("Attest with a concurrent writer = %v, want a generation error", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.Attest(ctx, testClaims()); !errors.Is(err, context.Canceled) {
		t.Fatalf("Attest with a cancelled context = %v", err)
	}
}

// Off TEE hardware (as on CI), the real constructors explain what is missing.
func TestRealAttestersOffHardware(t *testing.T) {
	if _, err := os.Stat(tsmReportDir); err == nil {
		t.Skipf("%s exists: this machine may be a confidential guest", tsmReportDir)
	}
	for name, mk := range map[string]func() (Attester, error){"tdx": TDXAttester, "sev-snp": SEVSNPAttester} {
		if _, err := mk(); err == nil || !strings.Contains(err.Error(), "configfs-tsm") {
			t.Errorf("%s attester off hardware = %v, want an error naming configfs-tsm", name, err)
		}
	}
}

// TestAttestThenVerifyNone is the dev-network flow end to end.
func TestAttestThenVerifyNone(t *testing.T) {
	c := testClaims()
	ev, err := NoneAttester().Attest(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	ev2, err := UnmarshalEvidence(ev.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	res, err := Verify(context.Background(), ev2, c, Policy{AllowUnattested: true, Now: time.Unix(c.Expiry-1, 0)})
	if err != nil || res.Confidential {
		t.Fatalf("Verify = %+v, %v", res, err)
	}
}
