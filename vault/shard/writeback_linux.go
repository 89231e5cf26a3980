package shard

import (
	"os"
	"syscall"
)

// startWriteback asks the kernel to start writing the n bytes of f at off
// to disk now, without waiting (sync_file_range with
// SYNC_FILE_RANGE_WRITE), so that a shard's disk writes overlap its
// transfer and the fsync that makes it durable waits only for the tail. It
// is a hint: it makes nothing durable (f.Sync still does), and its errors
// are ignored.
func startWriteback(f *os.File, off, n int64) {
	const syncFileRangeWrite = 2 // SYNC_FILE_RANGE_WRITE
	sc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = sc.Control(func(fd uintptr) {
		_, _, _ = syscall.Syscall6(syscall.SYS_SYNC_FILE_RANGE, fd, uintptr(off), uintptr(n), syncFileRangeWrite, 0, 0)
	})
}
