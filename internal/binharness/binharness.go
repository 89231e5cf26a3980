// Package binharness runs the real tonmesh binary for end-to-end tests: it
// builds cmd/tonmesh once per test process and runs it as a child process, as
// a user would from a shell.
package binharness

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Binary builds cmd/tonmesh (once per process) and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		dir, err := os.MkdirTemp("", "tonmesh-e2e-bin-")
		if err != nil {
			build.err = err
			return
		}
		build.path = filepath.Join(dir, "tonmesh")
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		cmd := exec.Command("go", "build", "-o", build.path, "./cmd/tonmesh")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = &buildError{out: string(out), err: err}
		}
	})
	if build.err != nil {
		t.Fatalf("build tonmesh: %v", build.err)
	}
	return build.path
}

var build struct {
	once sync.Once
	path string
	err  error
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// Result is a finished command.
type Result struct {
	Stdout, Stderr string
	ExitCode       int
}

// Run runs the binary with args and the given extra environment, waiting up
// to a minute.
func Run(t testing.TB, env []string, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, Binary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		res.ExitCode = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run tonmesh %v: %v", args, err)
	}
	return res
}

// Daemon is a running `tonmesh daemon` child process.
type Daemon struct {
	URL    string
	cmd    *exec.Cmd
	exited chan struct{}
	logs   *bytes.Buffer
}

// StartDaemon runs `tonmesh daemon --home home` (with extra environment) until
// the test ends or Stop, and waits until its API answers /healthz.
func StartDaemon(t testing.TB, home string, env ...string) *Daemon {
	t.Helper()
	cmd := exec.Command(Binary(t), "daemon", "--home", home)
	cmd.Env = append(os.Environ(), env...)
	d := &Daemon{cmd: cmd, exited: make(chan struct{}), logs: &bytes.Buffer{}}
	cmd.Stdout, cmd.Stderr = d.logs, d.logs
	os.Remove(filepath.Join(home, "api.url"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(d.exited) }()
	t.Cleanup(d.Stop)
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-d.exited:
			t.Fatalf("daemon exited early:\n%s", d.logs.String())
		default:
		}
		if url, err := os.ReadFile(filepath.Join(home, "api.url")); err == nil {
			u := strings.TrimSpace(string(url))
			if resp, err := http.Get(u + "/healthz"); err == nil {
				resp.Body.Close()
				d.URL = u
				return d
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("daemon not up after a minute:\n%s", d.logs.String())
	return nil
}

// Stop sends SIGINT and waits for a graceful exit (SIGKILL after 30 s).
func (d *Daemon) Stop() {
	d.cmd.Process.Signal(os.Interrupt)
	select {
	case <-d.exited:
	case <-time.After(30 * time.Second):
		d.cmd.Process.Kill()
		<-d.exited
	}
}
