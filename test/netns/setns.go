//go:build linux && (amd64 || arm64)

package netns

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
)

// InNS runs fn on an OS thread that has entered host h's network namespace,
// so that sockets fn creates belong to that namespace (they stay there
// after fn returns). The thread goes back to its own namespace afterwards;
// if it cannot, it is left locked and dies with its goroutine, so no other
// goroutine ever runs in the wrong namespace.
func InNS(h *Host, fn func() error) error {
	target, err := os.Open("/run/netns/" + h.NS)
	if err != nil {
		return fmt.Errorf("netns: open namespace %s: %w", h.NS, err)
	}
	defer target.Close()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		self, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", syscall.Gettid()))
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("netns: open own namespace: %w", err)
			return
		}
		defer self.Close()
		if err := setns(target.Fd()); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("netns: enter %s: %w", h.NS, err)
			return
		}
		ferr := fn()
		if err := setns(self.Fd()); err != nil {
			errc <- fmt.Errorf("netns: leave %s: %w", h.NS, err) // thread stays locked and exits
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

func setns(fd uintptr) error {
	if _, _, e := syscall.RawSyscall(sysSetns, fd, syscall.CLONE_NEWNET, 0); e != 0 {
		return e
	}
	return nil
}
