package benchutil

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestProgress(t *testing.T) {
	var buf bytes.Buffer
	p := &Progress{W: &buf, Start: time.Now().Add(-1500 * time.Millisecond)}
	p.Printf("step %d of %d", 1, 2)
	p.Debugf("hidden %d", 1)
	p.Verbose = true
	p.Debugf("shown %s", "now")
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2 (Debugf without Verbose must print nothing):\n%s", len(lines), buf.String())
	}
	stamp := regexp.MustCompile(`^\[ *\d+\.\ds\] `)
	for i, want := range []string{"step 1 of 2", "shown now"} {
		if !stamp.MatchString(lines[i]) || !strings.HasSuffix(lines[i], "] "+want) {
			t.Errorf("line %d = %q, want \"[  N.Ns] %s\"", i, lines[i], want)
		}
	}
	if !strings.HasPrefix(lines[0], "[  1.") {
		t.Errorf("line %q: want about 1.5 s since Start, right-aligned in 5 columns", lines[0])
	}
}

func TestPrintJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := PrintJSON(&buf, map[string]any{"a": 1, "b": []int{2}}); err != nil {
		t.Fatal(err)
	}
	const want = "{\n  \"a\": 1,\n  \"b\": [\n    2\n  ]\n}\n"
	if buf.String() != want {
		t.Errorf("PrintJSON = %q, want %q", buf.String(), want)
	}
	if err := PrintJSON(&buf, func() {}); err == nil {
		t.Error("PrintJSON of a func: no error")
	}
}

func TestPrintFailures(t *testing.T) {
	var buf bytes.Buffer
	PrintFailures(&buf, nil)
	if buf.Len() != 0 {
		t.Errorf("no failures printed %q", buf.String())
	}
	PrintFailures(&buf, []string{"a: broke", "b: interrupted"})
	if want := "\nFAILED:\n  a: broke\n  b: interrupted\n"; buf.String() != want {
		t.Errorf("PrintFailures = %q, want %q", buf.String(), want)
	}
}

func TestThisMachine(t *testing.T) {
	m := ThisMachine()
	if m.GOOS != runtime.GOOS || m.GOARCH != runtime.GOARCH || m.CPUs < 1 || m.GoVersion != runtime.Version() {
		t.Errorf("ThisMachine = %+v", m)
	}
}

func TestCommandFlagStatus(t *testing.T) {
	var errOut bytes.Buffer
	c := Command{Name: "bench-x", Stdout: io.Discard, Stderr: &errOut}
	if got := c.FlagStatus(fmt.Errorf("parse: %w", flag.ErrHelp)); got != 0 || errOut.Len() != 0 {
		t.Errorf("-h: status %d, stderr %q; want 0 and nothing", got, errOut.String())
	}
	if got := c.FlagStatus(errors.New("--n 0: use 1 to 9")); got != 2 || errOut.String() != "bench-x: --n 0: use 1 to 9\n" {
		t.Errorf("bad flag: status %d, stderr %q", got, errOut.String())
	}
}

func TestCommandFinish(t *testing.T) {
	type result struct {
		X int `json:"x"`
	}
	table := func(w io.Writer) { fmt.Fprintln(w, "the table") }
	for _, c := range []struct {
		name             string
		asJSON           bool
		res              any
		failures         []string
		status           int
		stdout, stderrRE string
	}{
		{"table", false, result{1}, nil, 0, "the table\n", `^$`},
		{"json", true, result{1}, nil, 0, "{\n  \"x\": 1\n}\n", `^$`},
		{"table with failures", false, result{1}, []string{"a", "b"}, 1, "the table\n", `^bench-x: FAILED:\n  a\n  b\n$`},
		{"unencodable json", true, func() {}, nil, 1, "", `^bench-x: write JSON: .+\n$`},
	} {
		var out, errOut bytes.Buffer
		cmd := Command{Name: "bench-x", Stdout: &out, Stderr: &errOut}
		if got := cmd.Finish(c.asJSON, c.res, table, c.failures); got != c.status {
			t.Errorf("%s: status %d, want %d", c.name, got, c.status)
		}
		if out.String() != c.stdout {
			t.Errorf("%s: stdout %q, want %q", c.name, out.String(), c.stdout)
		}
		if !regexp.MustCompile(c.stderrRE).MatchString(errOut.String()) {
			t.Errorf("%s: stderr %q, want to match %q", c.name, errOut.String(), c.stderrRE)
		}
		if c.asJSON && c.status == 0 {
			var back result
			if err := json.Unmarshal(out.Bytes(), &back); err != nil || back != c.res {
				t.Errorf("%s: JSON does not read back: %v %+v", c.name, err, back)
			}
		}
	}
}

func TestCommandProgress(t *testing.T) {
	var errOut bytes.Buffer
	p := Command{Name: "bench-x", Stdout: io.Discard, Stderr: &errOut}.Progress(true)
	p.Debugf("to stderr")
	if !strings.HasSuffix(errOut.String(), "] to stderr\n") || !p.Verbose {
		t.Errorf("Progress: stderr %q, %+v", errOut.String(), p)
	}
}
