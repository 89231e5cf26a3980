package chat

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// storedJSON is json.Marshal(m), byte for byte, without reflection: a
// message is encoded at least twice on its way (stored, then its outcome),
// and encoding/json's reflection was a visible share of a message's CPU.
// FuzzStoredJSON holds it to json.Marshal; anything it does not write the
// way encoding/json does (a time outside the years 0-9999) goes to
// json.Marshal.
func (m *Message) storedJSON() []byte {
	if !jsonTimeOK(m.Sent) || !jsonTimeOK(m.Received) || !jsonTimeOK(m.Expires) {
		v, _ := json.Marshal(m)
		return v
	}
	b := make([]byte, 0, 256+len(m.Text))
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, m.Seq, 10)
	b = appendJSONField(b, "id", m.ID)
	b = appendJSONField(b, "peer", m.Peer)
	b = appendJSONField(b, "direction", m.Direction)
	b = appendJSONField(b, "kind", m.Kind)
	if m.Text != "" {
		b = appendJSONField(b, "text", m.Text)
	}
	if m.TimerS != 0 {
		b = strconv.AppendInt(append(b, `,"timer_s":`...), m.TimerS, 10)
	}
	b = appendJSONTime(append(b, `,"sent":`...), m.Sent)
	if !m.Received.IsZero() {
		b = appendJSONTime(append(b, `,"received":`...), m.Received)
	}
	if !m.Expires.IsZero() {
		b = appendJSONTime(append(b, `,"expires":`...), m.Expires)
	}
	if m.Status != "" {
		b = appendJSONField(b, "status", m.Status)
	}
	if m.Holders != 0 {
		b = strconv.AppendInt(append(b, `,"holders":`...), int64(m.Holders), 10)
	}
	if m.Group != "" {
		b = appendJSONField(b, "group", m.Group)
	}
	if f := m.Fanout; f != nil {
		b = strconv.AppendInt(append(b, `,"fanout":{"members":`...), int64(f.Members), 10)
		b = strconv.AppendInt(append(b, `,"delivered":`...), int64(f.Delivered), 10)
		b = strconv.AppendInt(append(b, `,"mailbox":`...), int64(f.Mailbox), 10)
		b = strconv.AppendInt(append(b, `,"failed":`...), int64(f.Failed), 10)
		b = append(b, '}')
	}
	if m.Device != "" {
		b = appendJSONField(b, "device", m.Device)
	}
	if m.Synced != 0 {
		b = strconv.AppendInt(append(b, `,"synced":`...), int64(m.Synced), 10)
	}
	return append(b, '}')
}

// jsonTimeOK reports whether appendJSONTime writes t as time.MarshalJSON
// does (which refuses years outside 0-9999 and offsets of a day or more).
func jsonTimeOK(t time.Time) bool {
	_, off := t.Zone()
	y := t.Year()
	return y >= 0 && y <= 9999 && off > -24*3600 && off < 24*3600
}

func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendJSONField appends ,"name":value with value quoted.
func appendJSONField(b []byte, name, value string) []byte {
	b = append(append(append(b, `,"`...), name...), `":`...)
	return appendJSONString(b, value)
}

// appendJSONString quotes s as encoding/json does (HTML-safe: <, > and &
// escaped; invalid UTF-8 as U+FFFD; U+2028 and U+2029 escaped).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// storedJSON is json.Marshal(m), byte for byte, without reflection (see
// Message.storedJSON); FuzzConvMetaJSON holds it to json.Marshal.
func (m *convMeta) storedJSON() []byte {
	if !jsonTimeOK(m.LastAt) {
		v, _ := json.Marshal(m)
		return v
	}
	b := make([]byte, 0, 128)
	b = append(b, '{')
	if m.Timer != 0 {
		b = strconv.AppendInt(append(b, `"timer_s":`...), m.Timer, 10)
		b = append(b, ',')
	}
	b = strconv.AppendInt(append(b, `"unread":`...), int64(m.Unread), 10)
	b = strconv.AppendUint(append(b, `,"read_seq":`...), m.ReadSeq, 10)
	b = strconv.AppendInt(append(b, `,"count":`...), int64(m.Count), 10)
	b = strconv.AppendUint(append(b, `,"next_seq":`...), m.NextSeq, 10)
	b = appendJSONTime(append(b, `,"last_at":`...), m.LastAt)
	if m.Rejected != 0 {
		b = strconv.AppendUint(append(b, `,"rejected":`...), m.Rejected, 10)
	}
	return append(b, '}')
}
