package channel

import (
	"embed"
	"io/fs"

	"github.com/tonmesh/tonmesh/contracts/build"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

// Files are the names of the build artefacts beside the sources.
const (
	CodeFile   = "channel.code.b64"
	RecordFile = "channel.code.rec"
)

//go:embed *.fc channel.code.b64 channel.code.rec
var files embed.FS

// Layout describes this directory for contracts/build: one code, recorded
// on the record's "code-hash" line.
func Layout() build.Layout {
	return build.Layout{
		Name:       "contracts/channel",
		Codes:      []build.Code{{File: CodeFile, Key: "code-hash"}},
		RecordFile: RecordFile,
	}
}

// Code returns the contract's compiled code cell.
func Code() (*cell.Cell, error) { return Layout().LoadCode(files, CodeFile) }

// EmbeddedRecord returns the build record compiled into the binary.
func EmbeddedRecord() (build.Record, error) { return Layout().LoadRecord(files) }

// EmbeddedFiles returns the sources and artefacts compiled into the binary.
func EmbeddedFiles() fs.FS { return files }
