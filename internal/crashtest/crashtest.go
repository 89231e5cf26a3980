// Package crashtest runs the child of a kill -9 durability test: the test
// binary itself, running one child test that prints a line for every write
// it acknowledges, killed with SIGKILL at the moment the parent picks.
//
// Invariant: every line the child printed before it died reaches the
// parent, including lines printed after the kill signal was sent, so a
// test checks every acknowledgement the child made, not only those before
// the kill.
package crashtest

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// stuckAfter is how long a child may run before it counts as stuck.
const stuckAfter = 2 * time.Minute

// Run starts the test binary running only the test named child, with env
// ("NAME=value") added to its environment, and passes each line of its
// standard output to line, in order. After line has returned true kill
// times, the child gets SIGKILL (kill 0: at once); its output is still read
// to the end. Run returns how many lines line accepted, and fails t if the
// child ended any other way than by the signal.
func Run(t testing.TB, child string, env []string, kill int, line func(string) (ack bool)) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+child+"$")
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the child %s: %v", child, err)
	}
	var stuck atomic.Bool
	watchdog := time.AfterFunc(stuckAfter, func() {
		stuck.Store(true)
		_ = cmd.Process.Kill()
	})
	defer watchdog.Stop()
	killed := false
	signal := func() {
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Errorf("kill the child %s: %v", child, err)
		}
		killed = true
	}
	if kill == 0 {
		signal()
	}
	acks := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if line(sc.Text()) {
			if acks++; acks == kill && !killed {
				signal()
			}
		}
	}
	_ = cmd.Wait()
	switch ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); {
	case stuck.Load():
		t.Fatalf("the child %s was stuck for %v after %d acknowledgements; killed it:\n%s", child, stuckAfter, acks, stderr.String())
	case !killed:
		t.Fatalf("the child %s ended (%v) after %d of the %d acknowledgements to kill it at:\n%s", child, cmd.ProcessState, acks, kill, stderr.String())
	case !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL:
		t.Fatalf("the child %s ended with %v, not by SIGKILL:\n%s", child, cmd.ProcessState, stderr.String())
	}
	return acks
}
