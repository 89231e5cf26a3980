package identity

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// MnemonicWords is the number of words in every mnemonic this package accepts.
const MnemonicWords = 24

const (
	// wordListSize is the number of words in the BIP-39 English list.
	wordListSize = 2048

	// maxMnemonicText bounds the text ParseMnemonic looks at: 24 words of at
	// most 8 letters need about 200 bytes; anything this large is not a mnemonic.
	maxMnemonicText = 64 << 10

	// Salts and iteration counts of the TON mnemonic scheme (tonweb-mnemonic,
	// @ton/crypto, tonutils-go). A mnemonic is valid without a password when
	// PBKDF2(entropy, basicSalt, basicIterations) starts with a zero byte.
	basicSalt       = "TON seed version"
	basicIterations = 100000 / 256
	passwordSalt    = "TON fast seed version"

	// maxNewMnemonicTries bounds NewMnemonic's rejection sampling. One draw in
	// about 256 is a valid mnemonic, so reaching this bound means the random
	// source is broken, not unlucky.
	maxNewMnemonicTries = 1 << 16
)

// NewMnemonic returns 24 random words that form a valid TON mnemonic without
// a password, as Tonkeeper and @ton/crypto's mnemonicNew generate them: the
// words pass the TON checksum and are not also a password-protected mnemonic.
func NewMnemonic() ([]string, error) {
	list := wordList()
	var buf [2 * MnemonicWords]byte
	for range maxNewMnemonicTries {
		if _, err := rand.Read(buf[:]); err != nil {
			return nil, fmt.Errorf("identity: read random bytes for a new mnemonic: %w", err)
		}
		words := make([]string, MnemonicWords)
		for i := range words {
			// 2048 is a power of two, so masking 16 random bits is unbiased.
			words[i] = list[binary.BigEndian.Uint16(buf[2*i:])&(wordListSize-1)]
		}
		ok, err := isBasicMnemonic(words)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		needsPassword, err := isPasswordMnemonic(words)
		if err != nil {
			return nil, err
		}
		if needsPassword {
			continue
		}
		return words, nil
	}
	return nil, errors.New("identity: no valid mnemonic after many random draws: the system random source looks broken")
}

// ParseMnemonic reads a mnemonic typed or pasted by a user: words separated
// by any whitespace, in any letter case. It returns the 24 lowercase words,
// or an error that says exactly what is wrong: the word count, the first word
// that is not in the TON word list (with its 1-based position), or a failed
// TON checksum.
func ParseMnemonic(text string) ([]string, error) {
	if len(text) > maxMnemonicText {
		return nil, fmt.Errorf("identity: mnemonic text is %d bytes, too long to be %d words", len(text), MnemonicWords)
	}
	words := strings.Fields(strings.ToLower(text))
	if len(words) != MnemonicWords {
		return nil, fmt.Errorf("identity: mnemonic has %d words, must be %d (a TON wallet recovery phrase)", len(words), MnemonicWords)
	}
	list := wordList()
	for i, w := range words {
		if _, found := slices.BinarySearch(list, w); !found {
			return nil, fmt.Errorf("identity: mnemonic word %d %q is not in the TON word list: check its spelling", i+1, shorten(w))
		}
	}
	ok, err := isBasicMnemonic(words)
	if err != nil {
		return nil, err
	}
	if ok {
		return words, nil
	}
	needsPassword, err := isPasswordMnemonic(words)
	if err != nil {
		return nil, err
	}
	if needsPassword {
		return nil, errors.New("identity: not a valid TON mnemonic without a password: this phrase needs a password, which tonmesh does not support")
	}
	return nil, errors.New("identity: not a valid TON mnemonic (checksum failed): check the order and spelling of the words; a BIP-39 phrase from a non-TON wallet will not work")
}

// shorten cuts a word quoted in an error to a readable length.
func shorten(w string) string {
	const maxRunes = 24
	if r := []rune(w); len(r) > maxRunes {
		return string(r[:maxRunes]) + "..."
	}
	return w
}

// wordList returns the BIP-39 English words, sorted.
func wordList() []string {
	return strings.Fields(bip39English)
}

// mnemonicEntropy is HMAC-SHA512 keyed by the space-joined words over the
// password: the input to every TON mnemonic derivation.
func mnemonicEntropy(words []string, password string) []byte {
	mac := hmac.New(sha512.New, []byte(strings.Join(words, " ")))
	mac.Write([]byte(password))
	return mac.Sum(nil)
}

// isBasicMnemonic reports whether words pass the TON checksum for a mnemonic
// without a password.
func isBasicMnemonic(words []string) (bool, error) {
	b, err := pbkdf2.Key(sha512.New, string(mnemonicEntropy(words, "")), []byte(basicSalt), basicIterations, 1)
	if err != nil {
		return false, fmt.Errorf("identity: check mnemonic checksum: %w", err)
	}
	return b[0] == 0, nil
}

// isPasswordMnemonic reports whether words are a TON mnemonic generated for
// use with a password (@ton/crypto's isPasswordNeeded).
func isPasswordMnemonic(words []string) (bool, error) {
	b, err := pbkdf2.Key(sha512.New, string(mnemonicEntropy(words, "")), []byte(passwordSalt), 1, 1)
	if err != nil {
		return false, fmt.Errorf("identity: check mnemonic password flag: %w", err)
	}
	return b[0] == 1, nil
}
