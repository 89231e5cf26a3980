package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times; 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// daemonProc is a `tonmesh daemon --home HOME` process found in /proc.
type daemonProc struct {
	pid     int
	home    string
	started time.Time // process start, 10 ms resolution
}

// scanDaemons lists the processes whose command line contains
// `daemon --home H` with H directly under parent. The testnet package does
// not expose its children's pids, so the benchmark finds them this way.
func scanDaemons(parent string) ([]daemonProc, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list /proc (the process benchmark needs Linux procfs; use --skip-process elsewhere): %w", err)
	}
	var out []daemonProc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		home, ok := daemonHome(pid)
		if !ok || filepath.Dir(home) != parent {
			continue
		}
		started, err := processStart(pid)
		if err != nil {
			continue // exited meanwhile
		}
		out = append(out, daemonProc{pid: pid, home: home, started: started})
	}
	return out, nil
}

// daemonHome returns H if pid's arguments contain "daemon", "--home", H.
func daemonHome(pid int) (string, bool) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return "", false
	}
	args := strings.Split(string(bytes.TrimRight(raw, "\x00")), "\x00")
	for i := 0; i+2 < len(args); i++ {
		if args[i] == "daemon" && args[i+1] == "--home" {
			return filepath.Clean(args[i+2]), true
		}
	}
	return "", false
}

// processStart converts pid's start time (clock ticks since boot, field 22
// of /proc/<pid>/stat) to wall-clock time using /proc/uptime, which counts
// from the same boot clock.
func processStart(pid int) (time.Time, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return time.Time{}, err
	}
	// The command name (field 2) may contain spaces; fields resume after ')'.
	end := bytes.LastIndexByte(raw, ')')
	if end < 0 {
		return time.Time{}, errors.New("malformed /proc stat")
	}
	fields := strings.Fields(string(raw[end+1:]))
	const startField = 22 - 3 // fields[0] is field 3
	if len(fields) <= startField {
		return time.Time{}, errors.New("short /proc stat")
	}
	ticks, err := strconv.ParseInt(fields[startField], 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse start time: %w", err)
	}
	now := time.Now()
	up, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return time.Time{}, err
	}
	upFields := strings.Fields(string(up))
	if len(upFields) == 0 {
		return time.Time{}, errors.New("empty /proc/uptime")
	}
	upS, err := strconv.ParseFloat(upFields[0], 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse /proc/uptime: %w", err)
	}
	age := time.Duration((upS - float64(ticks)/clockTicks) * float64(time.Second))
	return now.Add(-age), nil
}

// rssBytes reads VmRSS from /proc/<pid>/status.
func rssBytes(pid int) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read RSS of pid %d: %w", pid, err)
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		rest, ok := strings.CutPrefix(line, "VmRSS:")
		if !ok {
			continue
		}
		f := strings.Fields(rest) // "12345 kB"
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("pid %d: unexpected VmRSS line %q", pid, line)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("pid %d: parse VmRSS: %w", pid, err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("pid %d: no VmRSS in /proc status", pid)
}
