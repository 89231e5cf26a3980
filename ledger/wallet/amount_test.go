package wallet

import (
	"errors"
	"math/big"
	"strings"
	"testing"
)

func TestParseTON(t *testing.T) {
	for in, want := range map[string]string{
		"1":                                      "1000000000",
		"1.5":                                    "1500000000",
		"0.000000001":                            "1",
		"0":                                      "0",
		" 2.25 ":                                 "2250000000",
		"10.000000000":                           "10000000000",
		"1329227995784915872903807060.280344575": "1329227995784915872903807060280344575", // 2^120-1
	} {
		got, err := ParseTON(in)
		if err != nil {
			t.Errorf("ParseTON(%q): %v", in, err)
			continue
		}
		if got.String() != want {
			t.Errorf("ParseTON(%q) = %s, want %s", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"1.2345678901":                           "at most 9",
		"-1":                                     "negative",
		"abc":                                    "not a number",
		"":                                       "empty",
		"1,5":                                    "decimal point",
		"1.":                                     "not a number",
		".5":                                     "not a number",
		"1e9":                                    "not a number",
		"+1":                                     "not a number",
		"1.2.3":                                  "not a number",
		"１":                                      "not a number",
		"1329227995784915872903807060.280344576": "more than",
		strings.Repeat("9", 65):                  "too long",
	} {
		_, err := ParseTON(in)
		if err == nil || !errors.Is(err, ErrBadAmount) || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseTON(%q): err = %v, want ErrBadAmount mentioning %q", in, err, want)
		}
	}
}

func TestFormatTON(t *testing.T) {
	for in, want := range map[int64]string{
		0:               "0",
		1:               "0.000000001",
		1_500_000_000:   "1.5",
		2_000_000_000:   "2",
		-1_250_000_000:  "-1.25",
		123_456_789_012: "123.456789012",
		100_000_000:     "0.1",
	} {
		if got := FormatTON(big.NewInt(in)); got != want {
			t.Errorf("FormatTON(%d) = %q, want %q", in, got, want)
		}
	}
	if got := FormatTON(nil); got != "0" {
		t.Errorf("FormatTON(nil) = %q", got)
	}
}

func FuzzParseTON(f *testing.F) {
	for _, s := range []string{"1", "1.5", "0.000000001", "1.2345678901", "-1", "abc", "", "1.", ".5", "99999999999999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		nano, err := ParseTON(s)
		if err != nil {
			if !errors.Is(err, ErrBadAmount) {
				t.Fatalf("error %v does not wrap ErrBadAmount", err)
			}
			return
		}
		if nano.Sign() < 0 || nano.Cmp(maxCoins) > 0 {
			t.Fatalf("ParseTON(%q) = %s: out of range", s, nano)
		}
		// Formatting and parsing again gives the same amount.
		back, err := ParseTON(FormatTON(nano))
		if err != nil || back.Cmp(nano) != 0 {
			t.Fatalf("round trip of %q: %s -> %q -> %v, %v", s, nano, FormatTON(nano), back, err)
		}
	})
}
