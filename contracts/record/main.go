// Command record writes the build record of each contract directory it is
// given: for every DIR it reads the freshly compiled code files and the
// *.fc sources there, writes the record file (see contracts/build) and
// prints the code hashes. scripts/build-contracts runs it after compiling.
//
// Usage: record COMPILER-DESCRIPTION DIR...
//
// A DIR is matched to its contract package by its last path element
// ("channel" or "market"); the package's Layout says which files to read
// and write. The command embeds the contract packages, so every record
// file must exist (empty will do) before it is built.
package main

import (
	"fmt"
	"os"
	"path"
	"path/filepath"

	"github.com/tonmesh/tonmesh/contracts/build"
	"github.com/tonmesh/tonmesh/contracts/channel"
	"github.com/tonmesh/tonmesh/contracts/market"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: record COMPILER-DESCRIPTION DIR...")
		os.Exit(2)
	}
	compiler := os.Args[1]
	for _, dir := range os.Args[2:] {
		if err := run(dir, compiler); err != nil {
			fmt.Fprintln(os.Stderr, "record:", err)
			os.Exit(1)
		}
	}
}

func run(dir, compiler string) error {
	layout, err := layoutFor(dir)
	if err != nil {
		return err
	}
	rec, err := layout.WriteRecord(dir, compiler)
	if err != nil {
		return err
	}
	for _, c := range layout.Codes {
		fmt.Printf("%s: %s %x\n", layout.Name, c.Key, rec.CodeHashes[c.File])
	}
	return nil
}

// layoutFor picks the contract package whose directory dir is.
func layoutFor(dir string) (build.Layout, error) {
	base := filepath.Base(filepath.Clean(dir))
	known := []build.Layout{channel.Layout(), market.Layout()}
	for _, l := range known {
		if path.Base(l.Name) == base {
			return l, nil
		}
	}
	names := make([]string, len(known))
	for i, l := range known {
		names[i] = l.Name
	}
	return build.Layout{}, fmt.Errorf("%s is no known contract directory (known: %v)", dir, names)
}
