package passport

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/tonmesh/tonmesh/internal/wire"
)

// StreamedFile is one file of an element as DecodeElementFrom reads it.
type StreamedFile struct {
	Role string    // as FieldError names it: "front_side", "files[2]"
	Name string    // the file's name in the element
	MIME string    // its MIME type
	Size int       // the bytes Body yields
	Body io.Reader // the file's bytes, until the FileFunc returns
	// Head is the element as decoded so far: its type, data and value,
	// and the files before this one (without their bytes).
	Head *Element
}

// FileFunc receives each file of an element that DecodeElementFrom reads.
// It may read all of Body, part of it or none; an error stops the
// decoding and is returned.
type FileFunc func(f *StreamedFile) error

// DecodeElementFrom reads one element in Marshal's encoding from r, as
// strictly as UnmarshalElement (the same bytes are accepted, up to the end
// of r), without holding its files in memory: each is handed to file as it
// comes. The element returned has its files' names and MIME types, not
// their bytes (nil). Input that ends early is an error wrapping
// wire.ErrTruncated, so that a cut-off stream is never taken for a whole
// element.
func DecodeElementFrom(r io.Reader, file FileFunc) (*Element, error) {
	s := &streamSource{br: bufio.NewReader(r)}
	e := decodeElement(s, func(head *Element, role string, f *File, n int) {
		body := io.LimitReader(s.br, int64(n))
		if err := file(&StreamedFile{Role: role, Name: f.Name, MIME: f.MIME, Size: n, Body: body, Head: head}); err != nil {
			s.Fail(fmt.Errorf("%s: %w", role, err))
			return
		}
		if _, err := io.Copy(io.Discard, body); err != nil {
			s.Fail(fmt.Errorf("%s: %w", role, err))
		} else if left := body.(*io.LimitedReader).N; left > 0 {
			s.Fail(fmt.Errorf("%s: bytes: %d of %d missing: %w", role, left, n, wire.ErrTruncated))
		}
	})
	if s.err == nil {
		switch _, err := s.br.Peek(1); {
		case err == nil:
			s.err = errors.New("unexpected data after the element")
		case !errors.Is(err, io.EOF):
			s.err = err
		}
	}
	if s.err != nil {
		return nil, fmt.Errorf("passport: decode element: %w", s.err)
	}
	return e, nil
}

// streamSource is a fieldSource over a stream: the fields before a file's
// bytes are short (at most MaxFieldLen), so each is peeked whole from the
// buffer and copied out by decodeElement before the next read.
type streamSource struct {
	br  *bufio.Reader
	err error
}

func (s *streamSource) Fail(err error) {
	if s.err == nil {
		s.err = err
	}
}

func (s *streamSource) Err() error { return s.err }

// ioFail records why a field could not be read: the reader's error, or
// input that ended inside it.
func (s *streamSource) ioFail(what string, err error) {
	if err == nil || errors.Is(err, io.EOF) {
		err = wire.ErrTruncated
	}
	s.Fail(fmt.Errorf("%s: %w", what, err))
}

func (s *streamSource) Byte(what string) byte {
	if s.err != nil {
		return 0
	}
	b, err := s.br.ReadByte()
	if err != nil {
		s.ioFail(what, err)
	}
	return b
}

func (s *streamSource) Uvarint(what string) uint64 {
	if s.err != nil {
		return 0
	}
	peeked, perr := s.br.Peek(binary.MaxVarintLen64)
	v, n, err := wire.ParseUvarint(peeked)
	switch {
	case errors.Is(err, wire.ErrTruncated):
		s.ioFail(what, perr)
		return 0
	case err != nil:
		s.Fail(fmt.Errorf("%s: %w", what, err))
		return 0
	}
	_, _ = s.br.Discard(n) // peeked: cannot fail
	return v
}

// LenPrefixed returns bytes of the reader's buffer, valid until the next
// read: max is at most MaxFieldLen here, far below the buffer's size.
func (s *streamSource) LenPrefixed(what string, max int) []byte {
	n := s.Uvarint(what + " length")
	if s.err != nil {
		return nil
	}
	if n > uint64(max) {
		s.Fail(fmt.Errorf("%s: length %d exceeds the limit of %d bytes", what, n, max))
		return nil
	}
	b, err := s.br.Peek(int(n))
	if err != nil {
		s.ioFail(what, err)
		return nil
	}
	_, _ = s.br.Discard(int(n))
	return b
}
