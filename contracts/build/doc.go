// Package build ties a directory of compiled FunC contracts to the sources
// they were compiled from. contracts/channel and contracts/market each
// describe their directory with a Layout; this package holds the logic they
// share: decoding the base64 BOCs func-js writes, hashing the *.fc
// sources, reading and writing the build record, and checking that a
// record, the code and the sources agree.
//
// Owns: the build record's format. A record is a text file of lines
// "KEY HEX" (one per compiled contract, KEY from the Layout, e.g.
// "code-hash"), "source-sha256 HEX" and "compiler TEXT", in that order;
// the source hash is HashSources over the directory's *.fc files.
// scripts/build-contracts writes records through WriteRecord (via
// contracts/record); nothing else writes them.
//
// Invariants:
//   - FormatRecord and ParseRecord are inverse for a Layout: a record
//     written by WriteRecord parses back to the same hashes, and the bytes
//     written depend only on the code, the sources and the compiler text,
//     so rebuilding unchanged sources rewrites identical files;
//   - a parsed Record holds a 32-byte hash for every code of its Layout and
//     a 32-byte source hash, or ParseRecord fails;
//   - Verify succeeds only if every code file's cell hash is the one the
//     record names and the *.fc files hash to the record's source hash.
//
// The package has no state: every function reads what it is given (an
// fs.FS, usually a contract package's embed.FS or os.DirFS of its
// directory) and never caches a cell, so callers always get fresh cells
// they may not share.
package build
