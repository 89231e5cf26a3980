package attest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Attester produces evidence for claims on the machine it runs on.
type Attester interface {
	Attest(ctx context.Context, c Claims) (Evidence, error)
}

// NoneAttester returns an attester that produces evidence of kind none: NO
// hardware attestation, NOT confidential. For development networks; clients
// refuse it unless they explicitly allow unattested workers.
func NoneAttester() Attester { return noneAttester{} }

type noneAttester struct{}

func (noneAttester) Attest(ctx context.Context, _ Claims) (Evidence, error) {
	if err := ctx.Err(); err != nil {
		return Evidence{}, err
	}
	return Evidence{Kind: None}, nil
}

// tsmReportDir is where the Linux configfs-tsm report interface lives
// (Linux 6.7 and later, inside a TDX or SEV-SNP guest).
const tsmReportDir = "/sys/kernel/config/tsm/report"

// TSM providers as the kernel names them.
const (
	providerTDX = "tdx_guest"
	providerSEV = "sev_guest"
)

// TDXAttester returns an attester that asks the TDX module for a quote
// through configfs-tsm. It fails with an explanation off TDX hardware.
func TDXAttester() (Attester, error) {
	return newTSMAttester(osFS{}, tsmReportDir, TDX)
}

// SEVSNPAttester returns an attester that asks the AMD secure processor for
// an attestation report (and its certificate table) through configfs-tsm.
// It fails with an explanation off SEV-SNP hardware. (The older
// /dev/sev-guest ioctl interface is not used.)
func SEVSNPAttester() (Attester, error) {
	return newTSMAttester(osFS{}, tsmReportDir, SEVSNP)
}

// tsmFS is the part of the file system the configfs-tsm protocol uses.
type tsmFS interface {
	MkdirTemp(dir, pattern string) (string, error)
	WriteFile(name string, data []byte) error
	ReadFile(name string) ([]byte, error)
	Remove(name string) error
	Stat(name string) (fs.FileInfo, error)
}

type osFS struct{}

func (osFS) MkdirTemp(dir, pattern string) (string, error) { return os.MkdirTemp(dir, pattern) }
func (osFS) WriteFile(name string, data []byte) error {
	return os.WriteFile(name, data, 0o600)
}
func (osFS) ReadFile(name string) ([]byte, error)  { return os.ReadFile(name) }
func (osFS) Remove(name string) error              { return os.Remove(name) }
func (osFS) Stat(name string) (fs.FileInfo, error) { return os.Stat(name) }

type tsmAttester struct {
	fs       tsmFS
	dir      string
	kind     Kind
	provider string
}

func newTSMAttester(fsys tsmFS, dir string, kind Kind) (*tsmAttester, error) {
	a := &tsmAttester{fs: fsys, dir: dir, kind: kind, provider: providerTDX}
	if kind == SEVSNP {
		a.provider = providerSEV
	}
	if _, err := fsys.Stat(dir); err != nil {
		return nil, fmt.Errorf("attest: %s attestation needs configfs-tsm at %s (a %s guest, Linux 6.7 or later, configfs mounted): %w", kind, dir, kind, err)
	}
	// Probe the provider: it is only readable inside a report entry.
	entry, err := fsys.MkdirTemp(dir, "tonmesh-probe-")
	if err != nil {
		return nil, fmt.Errorf("attest: create a configfs-tsm report entry in %s (run as root?): %w", dir, err)
	}
	defer fsys.Remove(entry)
	if err := a.checkProvider(entry); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *tsmAttester) checkProvider(entry string) error {
	got, err := a.fs.ReadFile(filepath.Join(entry, "provider"))
	if err != nil {
		return fmt.Errorf("attest: read the configfs-tsm provider: %w", err)
	}
	if p := strings.TrimSpace(string(got)); p != a.provider {
		return fmt.Errorf("attest: this machine's attestation provider is %q, not %q: it is not a %s guest", p, a.provider, a.kind)
	}
	return nil
}

// Attest creates a report entry, writes ReportData(c) as its inblob, reads
// the quote (and for SEV-SNP the certificate table) and removes the entry.
// A generation change between writing and reading means another process
// used the same entry; the quote is then refused.
func (a *tsmAttester) Attest(ctx context.Context, c Claims) (Evidence, error) {
	if err := ctx.Err(); err != nil {
		return Evidence{}, err
	}
	entry, err := a.fs.MkdirTemp(a.dir, "tonmesh-")
	if err != nil {
		return Evidence{}, fmt.Errorf("attest: create a configfs-tsm report entry in %s: %w", a.dir, err)
	}
	defer a.fs.Remove(entry)
	rd := ReportData(c)
	if err := a.fs.WriteFile(filepath.Join(entry, "inblob"), rd[:]); err != nil {
		return Evidence{}, fmt.Errorf("attest: write the report data to configfs-tsm: %w", err)
	}
	if err := a.checkProvider(entry); err != nil {
		return Evidence{}, err
	}
	gen, err := a.fs.ReadFile(filepath.Join(entry, "generation"))
	if err != nil {
		return Evidence{}, fmt.Errorf("attest: read the configfs-tsm generation: %w", err)
	}
	out, err := a.fs.ReadFile(filepath.Join(entry, "outblob"))
	if err != nil {
		return Evidence{}, fmt.Errorf("attest: read the %s report from configfs-tsm: %w", a.kind, err)
	}
	quote := out
	if a.kind == SEVSNP {
		aux, err := a.fs.ReadFile(filepath.Join(entry, "auxblob"))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return Evidence{}, fmt.Errorf("attest: read the SEV-SNP certificate table from configfs-tsm: %w", err)
		}
		if len(aux) == 0 {
			return Evidence{}, errors.New("attest: the host supplies no SEV-SNP certificate table (auxblob is empty): configure the hypervisor to provide the VCEK/VLEK chain")
		}
		quote = append(append([]byte(nil), out...), aux...)
	}
	gen2, err := a.fs.ReadFile(filepath.Join(entry, "generation"))
	if err != nil {
		return Evidence{}, fmt.Errorf("attest: read the configfs-tsm generation: %w", err)
	}
	if !bytes.Equal(gen, gen2) {
		return Evidence{}, errors.New("attest: the configfs-tsm report entry was changed by another process while reading: try again")
	}
	if len(quote) > MaxQuoteSize {
		return Evidence{}, fmt.Errorf("attest: the %s evidence is %d bytes, over the limit of %d", a.kind, len(quote), MaxQuoteSize)
	}
	return Evidence{Kind: a.kind, Quote: quote}, nil
}
