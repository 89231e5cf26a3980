//go:build !linux

package main

// filesystem is not known off Linux.
func filesystem(string) string { return "" }
