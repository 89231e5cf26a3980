package market

import (
	"embed"
	"io/fs"

	"github.com/tonmesh/tonmesh/contracts/build"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

// Files are the names of the build artefacts beside the sources.
const (
	CollectionCodeFile = "collection.code.b64"
	ItemCodeFile       = "item.code.b64"
	RecordFile         = "market.code.rec"
)

//go:embed *.fc collection.code.b64 item.code.b64 market.code.rec
var files embed.FS

// Layout describes this directory for contracts/build: two codes, recorded
// on the record's "collection-code-hash" and "item-code-hash" lines.
func Layout() build.Layout {
	return build.Layout{
		Name: "contracts/market",
		Codes: []build.Code{
			{File: CollectionCodeFile, Key: "collection-code-hash"},
			{File: ItemCodeFile, Key: "item-code-hash"},
		},
		RecordFile: RecordFile,
	}
}

// CollectionCode returns the collection contract's compiled code cell.
func CollectionCode() (*cell.Cell, error) { return Layout().LoadCode(files, CollectionCodeFile) }

// ItemCode returns the item contract's compiled code cell.
func ItemCode() (*cell.Cell, error) { return Layout().LoadCode(files, ItemCodeFile) }

// EmbeddedRecord returns the build record compiled into the binary.
func EmbeddedRecord() (build.Record, error) { return Layout().LoadRecord(files) }

// EmbeddedFiles returns the sources and artefacts compiled into the binary.
func EmbeddedFiles() fs.FS { return files }
