// Command record writes contracts/channel's build record: it reads the
// freshly compiled channel.code.b64 and the *.fc sources in the directory
// given as its first argument, writes channel.code.rec there and prints the
// code hash. scripts/build-contracts runs it after compiling.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/tonmesh/tonmesh/contracts/channel"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: record DIR COMPILER-DESCRIPTION")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "record:", err)
		os.Exit(1)
	}
}

func run(dir, compiler string) error {
	raw, err := os.ReadFile(filepath.Join(dir, channel.CodeFile))
	if err != nil {
		return err
	}
	code, err := channel.ParseCode(raw)
	if err != nil {
		return err
	}
	src, err := channel.HashSources(os.DirFS(dir))
	if err != nil {
		return err
	}
	rec := channel.Record{CodeHash: code.Hash(), SourceHash: src, Compiler: compiler}
	if err := os.WriteFile(filepath.Join(dir, channel.RecordFile), []byte(rec.Format()), 0o644); err != nil {
		return err
	}
	fmt.Printf("channel code hash %x (%d bits of root, %d refs)\n", code.Hash(), code.BitsSize(), code.RefsNum())
	return nil
}
