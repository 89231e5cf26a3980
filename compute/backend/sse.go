package backend

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// maxEvent bounds one server-sent event's data (a streaming chunk).
const maxEvent = 1 << 20

// sseReader reads the data of server-sent events (the text/event-stream
// format of the WHATWG HTML standard): "data:" lines joined with "\n" and
// dispatched at a blank line; comments (":") and other fields (event, id,
// retry) are skipped. Lines may end in "\n" or "\r\n".
type sseReader struct {
	r   *bufio.Reader
	max int
}

func newSSEReader(r io.Reader, max int) *sseReader {
	return &sseReader{r: bufio.NewReaderSize(r, 4<<10), max: max}
}

var errEventTooLarge = errors.New("a stream event is over the size limit")

// next returns the data of the next event that has any. At the end of
// input it returns data still pending (a last event without its blank
// line), then io.EOF.
func (s *sseReader) next() ([]byte, error) {
	var data []byte
	has := false
	for {
		line, err := s.readLine()
		if err != nil && !(errors.Is(err, io.EOF) && len(line) > 0) {
			if errors.Is(err, io.EOF) && has {
				return data, nil
			}
			return nil, err
		}
		switch {
		case len(line) == 0:
			if has {
				return data, nil
			}
		case line[0] == ':':
		default:
			field, value, _ := bytes.Cut(line, []byte(":"))
			if string(field) != "data" {
				break
			}
			value = bytes.TrimPrefix(value, []byte(" "))
			if has {
				data = append(data, '\n')
			}
			data = append(data, value...)
			has = true
			if len(data) > s.max {
				return nil, fmt.Errorf("%w (%d bytes)", errEventTooLarge, s.max)
			}
		}
		if errors.Is(err, io.EOF) {
			if has {
				return data, nil
			}
			return nil, io.EOF
		}
	}
}

// readLine returns one line without its line ending. It returns the last
// line with io.EOF when the input does not end in a newline.
func (s *sseReader) readLine() ([]byte, error) {
	var line []byte
	for {
		frag, err := s.r.ReadSlice('\n')
		line = append(line, frag...)
		if len(line) > s.max+16 {
			return nil, fmt.Errorf("%w (%d bytes)", errEventTooLarge, s.max)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		return line, err
	}
}
