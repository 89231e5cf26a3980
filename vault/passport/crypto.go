package passport

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// SecretSize is the size of every Telegram Passport secret.
const SecretSize = 32

// secretSum is the required value of a secret's byte sum modulo 255.
const secretSum = 239

// MinRSABits is the smallest service key accepted.
const MinRSABits = 2048

// NewSecret returns 32 random bytes whose byte sum modulo 255 is 239, as
// the specification requires of every secret.
func NewSecret() ([]byte, error) {
	s := make([]byte, SecretSize)
	if _, err := rand.Read(s); err != nil {
		return nil, fmt.Errorf("passport: random secret: %w", err)
	}
	sum := 0
	for _, b := range s[:SecretSize-1] {
		sum += int(b)
	}
	// The last byte makes the sum come out right; it is in 0..254.
	s[SecretSize-1] = byte(((secretSum-sum)%255 + 255) % 255)
	return s, nil
}

// ValidSecret reports whether s is 32 bytes with a byte sum of 239 mod 255.
func ValidSecret(s []byte) bool {
	if len(s) != SecretSize {
		return false
	}
	sum := 0
	for _, b := range s {
		sum += int(b)
	}
	return sum%255 == secretSum
}

// pad prepends 32 to 255 random bytes so the length is a multiple of 16;
// the first padding byte holds the padding's length.
func pad(data []byte) ([]byte, error) {
	n := 32 + (16-(len(data)+32)%16)%16
	// Spread the length a little, staying within 255.
	var r [1]byte
	if _, err := rand.Read(r[:]); err != nil {
		return nil, fmt.Errorf("passport: random padding: %w", err)
	}
	n += 16 * (int(r[0]) % ((255-n)/16 + 1))
	out := make([]byte, n+len(data))
	if _, err := rand.Read(out[:n]); err != nil {
		return nil, fmt.Errorf("passport: random padding: %w", err)
	}
	out[0] = byte(n)
	copy(out[n:], data)
	return out, nil
}

// unpad strips the padding pad added.
func unpad(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, errors.New("no data")
	}
	n := int(b[0])
	if n < 32 || n > len(b) {
		return nil, fmt.Errorf("padding length %d is invalid (32..255 and within %d bytes)", n, len(b))
	}
	return b[n:], nil
}

// keyIV derives the AES-256 key and IV from SHA-512(secret ‖ hash).
func keyIV(secret, hash []byte) (key, iv []byte) {
	h := sha512.New()
	h.Write(secret)
	h.Write(hash)
	d := h.Sum(nil)
	return d[:32], d[32:48]
}

// encrypted is the output of encryptData.
type encrypted struct {
	data, hash, secret []byte
}

// encryptData encrypts plain as the specification prescribes for element
// data, files and credentials: a fresh secret, padding, hash = SHA-256 of
// the padded data, AES-256-CBC with key and IV from SHA-512(secret ‖ hash).
func encryptData(plain []byte) (*encrypted, error) {
	secret, err := NewSecret()
	if err != nil {
		return nil, err
	}
	padded, err := pad(plain)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(padded)
	key, iv := keyIV(secret, sum[:])
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("passport: aes: %w", err)
	}
	out := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(out, padded)
	return &encrypted{data: out, hash: sum[:], secret: secret}, nil
}

// decryptData reverses encryptData: it checks the hash of the decrypted
// padded data and strips the padding.
func decryptData(data, hash, secret []byte) ([]byte, error) {
	if len(secret) != SecretSize || len(hash) != sha256.Size {
		return nil, fmt.Errorf("secret must be %d bytes and hash %d", SecretSize, sha256.Size)
	}
	if len(data) == 0 || len(data)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("ciphertext of %d bytes is not a positive multiple of %d", len(data), aes.BlockSize)
	}
	key, iv := keyIV(secret, hash)
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	padded := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(padded, data)
	sum := sha256.Sum256(padded)
	if subtle.ConstantTimeCompare(sum[:], hash) != 1 {
		return nil, errors.New("hash mismatch: the data was altered or the secret is wrong")
	}
	return unpad(padded)
}

// ParsePublicKey reads a service's RSA public key from PEM ("PUBLIC KEY",
// PKIX, as Telegram shows it; or "RSA PUBLIC KEY", PKCS #1). Keys under
// MinRSABits bits are refused.
func ParsePublicKey(pemText string) (*rsa.PublicKey, error) {
	blk, _ := pem.Decode([]byte(pemText))
	if blk == nil {
		return nil, errors.New("public key: no PEM block found: paste the whole -----BEGIN PUBLIC KEY----- block")
	}
	var pub *rsa.PublicKey
	switch blk.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("public key: %w", err)
		}
		var ok bool
		if pub, ok = k.(*rsa.PublicKey); !ok {
			return nil, fmt.Errorf("public key: a %T, Telegram Passport needs RSA", k)
		}
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("public key: %w", err)
		}
		pub = k
	default:
		return nil, fmt.Errorf("public key: PEM block %q: want PUBLIC KEY", blk.Type)
	}
	if pub.N.BitLen() < MinRSABits {
		return nil, fmt.Errorf("public key: RSA key of %d bits, at least %d are needed", pub.N.BitLen(), MinRSABits)
	}
	return pub, nil
}

// ParsePrivateKey reads a service's RSA private key from PEM (PKCS #1
// "RSA PRIVATE KEY" or PKCS #8 "PRIVATE KEY").
func ParsePrivateKey(pemText string) (*rsa.PrivateKey, error) {
	blk, _ := pem.Decode([]byte(pemText))
	if blk == nil {
		return nil, errors.New("private key: no PEM block found: paste the whole -----BEGIN PRIVATE KEY----- block")
	}
	switch blk.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("private key: %w", err)
		}
		return k, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("private key: %w", err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("private key: a %T, Telegram Passport needs RSA", k)
		}
		return rk, nil
	}
	return nil, fmt.Errorf("private key: PEM block %q: want PRIVATE KEY or RSA PRIVATE KEY", blk.Type)
}

// EncodePublicKey writes pub as a PKIX "PUBLIC KEY" PEM block.
func EncodePublicKey(pub *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("public key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// EncodePrivateKey writes priv as a PKCS #8 "PRIVATE KEY" PEM block.
func EncodePrivateKey(priv *rsa.PrivateKey) (string, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", fmt.Errorf("private key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
}

// rsaEncrypt and rsaDecrypt use RSA-OAEP with SHA-1, as Telegram does
// (OpenSSL's default OAEP parameters).
func rsaEncrypt(pub *rsa.PublicKey, secret []byte) ([]byte, error) {
	out, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, pub, secret, nil)
	if err != nil {
		return nil, fmt.Errorf("passport: encrypt credentials secret: %w", err)
	}
	return out, nil
}

func rsaDecrypt(priv *rsa.PrivateKey, ct []byte) ([]byte, error) {
	out, err := rsa.DecryptOAEP(sha1.New(), nil, priv, ct, nil)
	if err != nil {
		return nil, fmt.Errorf("decrypt credentials secret with the private key (is it the key the request named?): %w", err)
	}
	return out, nil
}
