// Command record writes contracts/market's build record: it reads the
// freshly compiled collection.code.b64 and item.code.b64 and the *.fc
// sources in the directory given as its first argument, writes
// market.code.rec there and prints the code hashes. scripts/build-contracts
// runs it after compiling.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/tonmesh/tonmesh/contracts/market"
	"github.com/xssnick/tonutils-go/tvm/cell"
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
	read := func(name string) (*cell.Cell, error) {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		return market.ParseCode(name, raw)
	}
	coll, err := read(market.CollectionCodeFile)
	if err != nil {
		return err
	}
	item, err := read(market.ItemCodeFile)
	if err != nil {
		return err
	}
	src, err := market.HashSources(os.DirFS(dir))
	if err != nil {
		return err
	}
	rec := market.Record{CollectionHash: coll.Hash(), ItemHash: item.Hash(), SourceHash: src, Compiler: compiler}
	if err := os.WriteFile(filepath.Join(dir, market.RecordFile), []byte(rec.Format()), 0o644); err != nil {
		return err
	}
	fmt.Printf("market collection code hash %x\nmarket item code hash %x\n", coll.Hash(), item.Hash())
	return nil
}
