package main

import "syscall"

// filesystem names the filesystem dir is on, for the report: fsync costs
// differ by orders of magnitude between them (and are free on tmpfs).
func filesystem(dir string) string {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return ""
	}
	switch st.Type {
	case 0xef53:
		return "ext2/3/4"
	case 0x58465342:
		return "xfs"
	case 0x9123683e:
		return "btrfs"
	case 0x01021994:
		return "tmpfs (fsync is free: figures are not durable-write figures)"
	case 0x794c7630:
		return "overlayfs"
	case 0x2fc12fc1:
		return "zfs"
	default:
		return ""
	}
}
