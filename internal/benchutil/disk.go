package benchutil

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// DurableWrites measures the disk under dir as the stores use it: rounds
// rounds in which each of files writers appends size bytes to a file of
// its own and fsyncs it, all at once. It returns each round's time (that
// of its slowest writer) and removes its files.
func DurableWrites(dir string, files, size, rounds int) ([]time.Duration, error) {
	tmp, err := os.MkdirTemp(dir, "durable-writes-")
	if err != nil {
		return nil, fmt.Errorf("raw durable writes: %w", err)
	}
	defer os.RemoveAll(tmp)
	fs := make([]*os.File, files)
	for i := range fs {
		if fs[i], err = os.Create(filepath.Join(tmp, strconv.Itoa(i))); err != nil {
			return nil, fmt.Errorf("raw durable writes: %w", err)
		}
		defer fs[i].Close()
	}
	data := make([]byte, size)
	if _, err := rand.Read(data); err != nil {
		return nil, err
	}
	times := make([]time.Duration, 0, rounds)
	errs := make([]error, files)
	for range rounds {
		t0 := time.Now()
		var wg sync.WaitGroup
		for i, f := range fs {
			wg.Go(func() {
				if _, errs[i] = f.Write(data); errs[i] == nil {
					errs[i] = f.Sync()
				}
			})
		}
		wg.Wait()
		times = append(times, time.Since(t0))
		for _, err := range errs {
			if err != nil {
				return nil, fmt.Errorf("raw durable writes: %w", err)
			}
		}
	}
	return times, nil
}
