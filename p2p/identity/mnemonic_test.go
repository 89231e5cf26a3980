package identity

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
)

// Mnemonics below come from Trust Wallet's wallet-core
// (rust/tw_hd_wallet/tests/ton_mnemonic.rs), which generated them with
// toncenter's tonweb-mnemonic, the reference TON mnemonic implementation.
const (
	vectorMnemonicA = "document shield addict crime broom point story depend suit satisfy test chicken valid tail speak fortune sound drill seek cube cheap body music recipe"
	vectorMnemonicB = "slogan train glide measure mercy dizzy when satoshi vote change length pluck token walnut actress hollow guard soup solve rival summer vicious anxiety device"
	// vectorPasswordMnemonic is valid only with the password "My passphrase".
	vectorPasswordMnemonic = "mimic close sibling chair shuffle goat fashion chunk increase tennis scene ceiling divert cross treat happy soccer sample umbrella oyster advance quality perfect call"
)

func TestWordListIsBIP39English(t *testing.T) {
	list := wordList()
	if len(list) != wordListSize {
		t.Fatalf("word list has %d words, want %d", len(list), wordListSize)
	}
	if !slices.IsSorted(list) {
		t.Fatal("word list is not sorted; ParseMnemonic's binary search needs it sorted")
	}
	if len(slices.Compact(slices.Clone(list))) != wordListSize {
		t.Fatal("word list has duplicates")
	}
	// Published SHA-256 of bitcoin/bips bip-0039/english.txt.
	const want = "2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda"
	sum := sha256.Sum256([]byte(strings.Join(list, "\n") + "\n"))
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("word list SHA-256 = %s, want %s", got, want)
	}
}

func TestNewMnemonic(t *testing.T) {
	seen := map[string]bool{}
	for range 3 {
		words, err := NewMnemonic()
		if err != nil {
			t.Fatalf("NewMnemonic: %v", err)
		}
		if len(words) != MnemonicWords {
			t.Fatalf("NewMnemonic gave %d words, want %d", len(words), MnemonicWords)
		}
		phrase := strings.Join(words, " ")
		parsed, err := ParseMnemonic(phrase)
		if err != nil {
			t.Fatalf("ParseMnemonic rejects a new mnemonic %q: %v", phrase, err)
		}
		if !slices.Equal(parsed, words) {
			t.Fatalf("ParseMnemonic changed a new mnemonic: %q -> %q", words, parsed)
		}
		needsPassword, err := isPasswordMnemonic(words)
		if err != nil {
			t.Fatal(err)
		}
		if needsPassword {
			t.Fatalf("new mnemonic %q is also a password mnemonic; @ton/crypto would reject it", phrase)
		}
		if seen[phrase] {
			t.Fatalf("NewMnemonic repeated %q", phrase)
		}
		seen[phrase] = true
	}
}

func TestParseMnemonicNormalizes(t *testing.T) {
	want := strings.Fields(vectorMnemonicA)
	messy := "  \t" + strings.ToUpper(strings.Join(want[:12], "\n")) + " \r\n  " + strings.Join(want[12:], "   \t ") + "\n"
	got, err := ParseMnemonic(messy)
	if err != nil {
		t.Fatalf("ParseMnemonic(uppercase, extra whitespace): %v", err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("ParseMnemonic = %q, want %q", got, want)
	}
}

func TestParseMnemonicErrors(t *testing.T) {
	words := strings.Fields(vectorMnemonicA)
	withWord := func(i int, w string) string {
		c := slices.Clone(words)
		c[i] = w
		return strings.Join(c, " ")
	}
	cases := []struct {
		name, text, want string
	}{
		{"empty", "", "has 0 words, must be 24"},
		{"blank", " \n\t ", "has 0 words, must be 24"},
		{"23 words", strings.Join(words[:23], " "), "has 23 words, must be 24"},
		{"25 words", vectorMnemonicA + " abandon", "has 25 words, must be 24"},
		{"12 words", strings.Join(words[:12], " "), "has 12 words, must be 24"},
		{"unknown word 7", withWord(6, "foo"), `word 7 "foo" is not in the TON word list`},
		{"unknown word 1 reported first", withWord(0, "Zzz"), `word 1 "zzz" is not in the TON word list`},
		{"prefix of a word", withWord(23, "reci"), `word 24 "reci" is not in the TON word list`},
		{"needs password", vectorPasswordMnemonic, "needs a password"},
		{"too long", strings.Repeat("abandon ", maxMnemonicText/8+1), "too long"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseMnemonic(tc.text)
			if err == nil {
				t.Fatalf("ParseMnemonic accepted %q as %q", tc.text, got)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

// A reordering of a valid mnemonic fails the checksum unless it lands on the
// 1-in-256 chance of another valid phrase: rotations of a fixed vector are
// deterministic, so check that almost all of them are rejected for the
// checksum and that the error says so.
func TestParseMnemonicRejectsReorderedWords(t *testing.T) {
	words := strings.Fields(vectorMnemonicB)
	rejected := 0
	for k := 1; k < len(words); k++ {
		rotated := append(slices.Clone(words[k:]), words[:k]...)
		_, err := ParseMnemonic(strings.Join(rotated, " "))
		if err == nil {
			continue
		}
		rejected++
		if !strings.Contains(err.Error(), "not a valid TON mnemonic") {
			t.Fatalf("rotation %d: error %q does not say the mnemonic is invalid", k, err)
		}
	}
	if rejected < len(words)-1-2 {
		t.Fatalf("only %d of %d reorderings rejected; the checksum is not being checked", rejected, len(words)-1)
	}
}

func TestParseMnemonicAcceptsVectors(t *testing.T) {
	for _, m := range []string{vectorMnemonicA, vectorMnemonicB} {
		got, err := ParseMnemonic(m)
		if err != nil {
			t.Fatalf("ParseMnemonic(%q): %v", m, err)
		}
		if !slices.Equal(got, strings.Fields(m)) {
			t.Fatalf("ParseMnemonic(%q) = %q", m, got)
		}
	}
}

func FuzzParseMnemonic(f *testing.F) {
	f.Add(vectorMnemonicA)
	f.Add(strings.ToUpper(vectorMnemonicB))
	f.Add(vectorPasswordMnemonic)
	f.Add(strings.Join(strings.Fields(vectorMnemonicA)[:23], " "))
	f.Add("")
	f.Add("abandon")
	f.Add(strings.Repeat("abandon ", 24))
	f.Add("\u212aite " + strings.Repeat("zoo ", 23)) // Kelvin sign lowercases to "k"
	f.Add("\xff\xfe\x00 word\u00a0word")
	list := wordList()
	f.Fuzz(func(t *testing.T, text string) {
		words, err := ParseMnemonic(text)
		if err != nil {
			if words != nil {
				t.Fatalf("ParseMnemonic returned words %q with error %v", words, err)
			}
			return
		}
		if len(words) != MnemonicWords {
			t.Fatalf("accepted %d words", len(words))
		}
		for i, w := range words {
			if _, ok := slices.BinarySearch(list, w); !ok {
				t.Fatalf("accepted word %d %q that is not in the list", i+1, w)
			}
		}
		again, err := ParseMnemonic(strings.Join(words, " "))
		if err != nil || !slices.Equal(again, words) {
			t.Fatalf("accepted words do not parse again to themselves: %q, %v", again, err)
		}
	})
}
