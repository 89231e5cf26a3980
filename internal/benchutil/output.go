package benchutil

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"
)

// Machine describes where the figures were taken.
type Machine struct {
	GOOS      string `json:"goos"`
	GOARCH    string `json:"goarch"`
	CPUs      int    `json:"cpus"`
	GoVersion string `json:"go_version"`
}

// ThisMachine describes the machine and Go runtime this process runs on.
func ThisMachine() Machine {
	return Machine{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
}

// Progress writes progress lines stamped with the time since Start, as
// "[  1.2s] message". It is not safe for concurrent use.
type Progress struct {
	W       io.Writer
	Verbose bool // Debugf prints only when set
	Start   time.Time
}

// Printf writes one progress line.
func (p *Progress) Printf(format string, args ...any) {
	fmt.Fprintf(p.W, "[%5.1fs] %s\n", time.Since(p.Start).Seconds(), fmt.Sprintf(format, args...))
}

// Debugf writes one progress line when p.Verbose is set.
func (p *Progress) Debugf(format string, args ...any) {
	if p.Verbose {
		p.Printf(format, args...)
	}
}

// PrintJSON writes v to w as JSON indented by two spaces, with a final
// newline.
func PrintJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// PrintFailures ends a table with the failures, if any: a blank line,
// "FAILED:", then one indented line each.
func PrintFailures(w io.Writer, failures []string) {
	if len(failures) == 0 {
		return
	}
	fmt.Fprintf(w, "\nFAILED:\n")
	for _, f := range failures {
		fmt.Fprintf(w, "  %s\n", f)
	}
}

// Command is a benchmark command's name, as the user runs it (for example
// "bench-ledger"), and its streams: results go to Stdout, progress and
// errors to Stderr.
type Command struct {
	Name   string
	Stdout io.Writer
	Stderr io.Writer
}

// Progress returns a progress printer to c.Stderr that starts now.
func (c Command) Progress(verbose bool) *Progress {
	return &Progress{W: c.Stderr, Verbose: verbose, Start: time.Now()}
}

// FlagStatus is the exit status for err from parsing the command line: 0
// for -h (the flag package has printed the usage), otherwise 2, with err
// written to c.Stderr.
func (c Command) FlagStatus(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(c.Stderr, "%s: %v\n", c.Name, err)
	return 2
}

// Finish prints the result of a run to c.Stdout, as JSON (PrintJSON of res)
// when asJSON is set, else with table, then lists failures on c.Stderr. It
// returns the exit status: 0, or 1 when anything failed or the JSON could
// not be written.
func (c Command) Finish(asJSON bool, res any, table func(io.Writer), failures []string) int {
	status := 0
	if asJSON {
		if err := PrintJSON(c.Stdout, res); err != nil {
			fmt.Fprintf(c.Stderr, "%s: write JSON: %v\n", c.Name, err)
			status = 1
		}
	} else {
		table(c.Stdout)
	}
	if len(failures) > 0 {
		fmt.Fprintf(c.Stderr, "%s: FAILED:\n  %s\n", c.Name, strings.Join(failures, "\n  "))
		status = 1
	}
	return status
}

// StartCPUProfile writes a CPU profile to path until the returned stop is
// called.
func StartCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
