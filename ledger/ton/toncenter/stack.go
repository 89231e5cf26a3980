package toncenter

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/tonmesh/tonmesh/ledger/ton"
	"github.com/xssnick/tonutils-go/tvm/cell"
)

// Bounds on what a request may carry.
const (
	// maxCellBOC bounds one BOC in a request (a stack cell, a body).
	maxCellBOC = 64 << 10
	// maxObjectCells bounds the cells spelt out in a result's "object"
	// form, which repeats shared subtrees; past it "object" is null.
	maxObjectCells = 4096
	// maxObjectDepth bounds the nesting of a cell object in a request.
	maxObjectDepth = 64
)

// decodeBOC decodes one cell from base64 text from outside; a panic in the
// third-party decoder becomes an error.
func decodeBOC(s string) (c *cell.Cell, err error) {
	raw, err := decodeB64(s)
	if err != nil {
		return nil, err
	}
	return parseBOC(raw)
}

func parseBOC(raw []byte) (c *cell.Cell, err error) {
	if len(raw) == 0 {
		return nil, errors.New("empty BOC")
	}
	if len(raw) > maxCellBOC {
		return nil, fmt.Errorf("BOC of %d bytes, the limit is %d", len(raw), maxCellBOC)
	}
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("malformed BOC (%v)", r)
		}
	}()
	return cell.FromBOC(raw)
}

// DecodeStack turns a toncenter request stack ([["num","0x2a"],
// ["tvm.Cell","<base64 BOC>"], ["tvm.Slice",…], ["cell",{…}], …]) into
// get-method arguments for ton.Chain.RunGetMethod. Numbers are decimal or
// 0x-hex strings (optionally negative) or JSON integers; cells and slices a
// base64 BOC, {"bytes": BOC} or the object form {"data":{"b64","len"},
// "refs":[…]}. It never panics on bad input.
func DecodeStack(raw json.RawMessage) ([]any, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var entries []json.RawMessage
	if err := decodeJSON(raw, &entries); err != nil {
		return nil, errf(422, "Stack should be array")
	}
	if len(entries) > ton.MaxStackItems {
		return nil, errf(422, "Validation error: stack: %d entries, the limit is %d", len(entries), ton.MaxStackItems)
	}
	out := make([]any, 0, len(entries))
	for i, e := range entries {
		var pair []json.RawMessage
		if err := decodeJSON(e, &pair); err != nil || len(pair) != 2 {
			return nil, errf(422, "Validation error: stack entry %d: want [type, value]", i)
		}
		var typ string
		if err := decodeJSON(pair[0], &typ); err != nil {
			return nil, errf(422, "Validation error: stack entry %d: the type must be a string", i)
		}
		v, err := stackValue(typ, pair[1])
		if err != nil {
			return nil, errf(422, "Validation error: stack entry %d (%s): %v", i, typ, err)
		}
		out = append(out, v)
	}
	if _, err := ton.StackArgs(out); err != nil {
		return nil, errf(422, "Validation error: stack: %v", err)
	}
	return out, nil
}

func stackValue(typ string, raw json.RawMessage) (any, error) {
	switch typ {
	case "num", "number", "int":
		return parseNum(raw)
	case "cell", "tvm.Cell":
		return parseCellValue(raw)
	case "slice", "tvm.Slice":
		c, err := parseCellValue(raw)
		if err != nil {
			return nil, err
		}
		return c.BeginParse()
	case "tvm.Builder":
		c, err := parseCellValue(raw)
		if err != nil {
			return nil, err
		}
		return c.ToBuilder(), nil
	}
	return nil, errf(422, "Unsupported stack entry type: %s", typ)
}

// parseNum reads a number as a JSON integer or a string in Python's int(s, 0)
// forms: decimal, 0x hex, 0o octal, 0b binary, with an optional sign.
func parseNum(raw json.RawMessage) (*big.Int, error) {
	var s string
	var n json.Number
	if err := decodeJSON(raw, &s); err != nil {
		if err := decodeJSON(raw, &n); err != nil {
			return nil, errors.New("want a number or a string holding one")
		}
		s = n.String()
	}
	s = strings.ReplaceAll(strings.TrimSpace(s), "_", "")
	if len(s) > 200 {
		return nil, errors.New("number too long")
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	base := 10
	switch {
	case strings.HasPrefix(s, "0x"), strings.HasPrefix(s, "0X"):
		base, s = 16, s[2:]
	case strings.HasPrefix(s, "0o"), strings.HasPrefix(s, "0O"):
		base, s = 8, s[2:]
	case strings.HasPrefix(s, "0b"), strings.HasPrefix(s, "0B"):
		base, s = 2, s[2:]
	}
	v, ok := new(big.Int).SetString(s, base)
	if !ok || s == "" {
		return nil, fmt.Errorf("%q is not an integer", s)
	}
	if neg {
		v.Neg(v)
	}
	if !ton.TVMIntOK(v) {
		return nil, errors.New("integer out of the 257-bit TVM range")
	}
	return v, nil
}

// cellObject is tvm_valuetypes' object form of a cell.
type cellObject struct {
	Data *struct {
		B64 string `json:"b64"`
		Len int    `json:"len"`
	} `json:"data"`
	Refs  []json.RawMessage `json:"refs"`
	Bytes string            `json:"bytes"`
}

func parseCellValue(raw json.RawMessage) (*cell.Cell, error) {
	var s string
	if err := decodeJSON(raw, &s); err == nil {
		return decodeBOC(s)
	}
	return parseCellObject(raw, 0, new(int))
}

func parseCellObject(raw json.RawMessage, depth int, count *int) (*cell.Cell, error) {
	*count++
	if depth > maxObjectDepth || *count > maxObjectCells {
		return nil, errors.New("cell object too deep or too large")
	}
	var o cellObject
	if err := decodeJSON(raw, &o); err != nil {
		return nil, errors.New("want a base64 BOC or a cell object")
	}
	if o.Bytes != "" {
		return decodeBOC(o.Bytes)
	}
	if o.Data == nil || len(o.Refs) > 4 {
		return nil, errors.New("cell object: want {\"data\":{\"b64\",\"len\"},\"refs\":[…]} with at most 4 refs")
	}
	data, err := base64.StdEncoding.DecodeString(o.Data.B64)
	if err != nil || o.Data.Len < 0 || o.Data.Len > 1023 || (o.Data.Len+7)/8 > len(data) {
		return nil, errors.New("cell object: bad data")
	}
	b := cell.BeginCell()
	if err := b.StoreSlice(data, uint(o.Data.Len)); err != nil {
		return nil, err
	}
	for _, r := range o.Refs {
		c, err := parseCellObject(r, depth+1, count)
		if err != nil {
			return nil, err
		}
		if err := b.StoreRef(c); err != nil {
			return nil, err
		}
	}
	return b.EndCell(), nil
}

// EncodeStack renders get-method results in toncenter's result form.
func EncodeStack(vals []any) []any {
	out := make([]any, 0, len(vals))
	for _, v := range vals {
		out = append(out, stackEntry(v))
	}
	return out
}

// stackEntry is one top-level result: numbers as Python's hex(), cells,
// slices and builders as ["cell",{bytes,object}], tuples in tonlib's typed
// form, null as an empty list (how tonlib renders it).
func stackEntry(v any) any {
	switch x := v.(type) {
	case *big.Int:
		return []any{"num", pyHex(x)}
	case []any:
		els := make([]any, 0, len(x))
		for _, e := range x {
			els = append(els, typedEntry(e))
		}
		return []any{"tuple", map[string]any{"@type": "tvm.tuple", "elements": els}}
	case nil:
		return []any{"list", map[string]any{"@type": "tvm.list", "elements": []any{}}}
	}
	c := asCell(v)
	if c == nil {
		return []any{"list", map[string]any{"@type": "tvm.list", "elements": []any{}}}
	}
	return []any{"cell", map[string]any{"bytes": base64.StdEncoding.EncodeToString(c.ToBOC()), "object": cellObj(c, new(int))}}
}

// typedEntry is a tuple member in tonlib's tvm.StackEntry form.
func typedEntry(v any) any {
	switch x := v.(type) {
	case *big.Int:
		return map[string]any{"@type": "tvm.stackEntryNumber", "number": map[string]any{"@type": "tvm.numberDecimal", "number": x.String()}}
	case []any:
		els := make([]any, 0, len(x))
		for _, e := range x {
			els = append(els, typedEntry(e))
		}
		return map[string]any{"@type": "tvm.stackEntryTuple", "tuple": map[string]any{"@type": "tvm.tuple", "elements": els}}
	case *cell.Slice:
		return map[string]any{"@type": "tvm.stackEntrySlice", "slice": map[string]any{"@type": "tvm.slice", "bytes": base64.StdEncoding.EncodeToString(asCell(x).ToBOC())}}
	case nil:
		return map[string]any{"@type": "tvm.stackEntryList", "list": map[string]any{"@type": "tvm.list", "elements": []any{}}}
	}
	c := asCell(v)
	if c == nil {
		return map[string]any{"@type": "tvm.stackEntryUnsupported"}
	}
	return map[string]any{"@type": "tvm.stackEntryCell", "cell": map[string]any{"@type": "tvm.cell", "bytes": base64.StdEncoding.EncodeToString(c.ToBOC())}}
}

func asCell(v any) *cell.Cell {
	switch x := v.(type) {
	case *cell.Cell:
		return x
	case *cell.Slice:
		c, err := x.Copy().ToCell()
		if err != nil {
			return nil
		}
		return c
	case *cell.Builder:
		return x.EndCell()
	}
	return nil
}

// pyHex formats v as Python's hex(): 0x2a, -0x2a, 0x0.
func pyHex(v *big.Int) string {
	if v.Sign() < 0 {
		return "-0x" + new(big.Int).Neg(v).Text(16)
	}
	return "0x" + v.Text(16)
}

// cellObj is tvm_valuetypes' serialize_to_object: data bits as base64 of
// the bytes (zero-padded) with their length, and the refs; nil past
// maxObjectCells cells.
func cellObj(c *cell.Cell, count *int) any {
	*count++
	if *count > maxObjectCells {
		return nil
	}
	s, err := c.BeginParse()
	if err != nil {
		return nil
	}
	bits := s.BitsLeft()
	data, _ := s.LoadSlice(bits)
	refs := []any{}
	for i := 0; i < int(c.RefsNum()); i++ {
		r, err := c.PeekRef(i)
		if err != nil {
			return nil
		}
		o := cellObj(r, count)
		if o == nil {
			return nil
		}
		refs = append(refs, o)
	}
	return map[string]any{"data": map[string]any{"b64": base64.StdEncoding.EncodeToString(data), "len": bits}, "refs": refs}
}
