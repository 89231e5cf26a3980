package chat

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// FuzzStoredJSON holds Message.storedJSON to json.Marshal, byte for byte.
func FuzzStoredJSON(f *testing.F) {
	f.Add(uint64(1), "0123abcd", "12D3KooW", "text", "hello", int64(0), int64(1764800000123), int64(0), int64(0), "delivered", 0, "", false, "", 0)
	f.Add(uint64(7), "id", "p", "in", "a\"b\\c\n\t\r\b\f\x00\x1f<>&\u2028\u2029\xff\xfeé😀", int64(3600), int64(-1), int64(1), int64(253402300800000), "", 3, "g", true, "dev", 2)
	f.Add(uint64(0), "", "", "", "", int64(-5), int64(1), int64(1764800000000), int64(1764800100000), "mailbox", -1, "", true, "", -3)
	f.Fuzz(func(t *testing.T, seq uint64, id, p, kind, text string, timer, sent, recv, exp int64, status string, holders int, group string, fanout bool, device string, synced int) {
		m := &Message{Seq: seq, ID: id, Peer: p, Direction: DirOut, Kind: kind, Text: text, TimerS: timer,
			Sent: time.UnixMilli(sent), Status: status, Holders: holders, Group: group, Device: device, Synced: synced}
		if recv != 0 {
			m.Received = time.UnixMilli(recv).UTC()
		}
		if exp != 0 {
			m.Expires = time.Unix(0, exp).In(time.FixedZone("x", int(exp%100000)))
		}
		if fanout {
			m.Fanout = &Fanout{Members: holders, Delivered: synced, Mailbox: int(timer), Failed: 1}
		}
		matchesMarshal(t, m, m.storedJSON())
	})
}

// FuzzConvMetaJSON holds convMeta.storedJSON to json.Marshal, byte for byte.
func FuzzConvMetaJSON(f *testing.F) {
	f.Add(int64(0), -1, uint64(0), 0, uint64(1), int64(0), uint64(0))
	f.Add(int64(3600), 5, uint64(9), 12, uint64(13), int64(1764800000123456789), uint64(2))
	f.Add(int64(-7), 0, uint64(1)<<63, -3, uint64(0), int64(-62135596800000000), uint64(1)<<63)
	f.Fuzz(func(t *testing.T, timer int64, unread int, readSeq uint64, count int, next uint64, last int64, rejected uint64) {
		m := &convMeta{Timer: timer, thread: thread{Unread: unread, ReadSeq: readSeq, Count: count, NextSeq: next, Rejected: rejected}}
		if last != 0 {
			m.LastAt = time.Unix(0, last).In(time.FixedZone("x", int(last%90000)))
		}
		matchesMarshal(t, m, m.storedJSON())
	})
}

// matchesMarshal fails t unless got is json.Marshal(v), byte for byte, or
// nil where json.Marshal fails.
func matchesMarshal(t *testing.T, v any, got []byte) {
	t.Helper()
	want, err := json.Marshal(v)
	if err != nil {
		if got != nil {
			t.Fatalf("json.Marshal failed (%v), storedJSON wrote %s", err, got)
		}
		return
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("storedJSON\n%s\nwant (json.Marshal)\n%s", got, want)
	}
}
