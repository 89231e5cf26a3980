package passport

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// Limits on what DecryptPassportData reads.
const (
	maxCredentialsSize = 256 << 10
	maxDataSize        = 16 << 10
)

// Decrypted is what a service reads from a share.
type Decrypted struct {
	Nonce    string     `json:"nonce"`
	Elements []*Element `json:"elements"`
}

// DecryptPassportData decrypts pd with the service's private key, as a
// service does: RSA-OAEP-decrypt the credentials secret, derive key and IV
// from SHA-512(secret ‖ hash), AES-256-CBC-decrypt, check SHA-256 of the
// padded plaintext against the hash, strip the padding, read the nonce and
// the per-element secrets, and decrypt each element's data and files the
// same way. files holds the encrypted file bytes by file_id. Decrypted
// files are named by their file_id and typed by their content. The caller
// must compare Nonce with the nonce it issued.
func DecryptPassportData(priv *rsa.PrivateKey, pd *PassportData, files map[string][]byte) (*Decrypted, error) {
	if priv == nil || pd == nil {
		return nil, errors.New("passport: decrypt: need a private key and passport data")
	}
	creds, err := decryptCredentials(priv, &pd.Credentials)
	if err != nil {
		return nil, err
	}
	if len(pd.Data) > len(typeTable()) {
		return nil, fmt.Errorf("passport: decrypt: %d elements, at most %d types exist", len(pd.Data), len(typeTable()))
	}
	out := &Decrypted{Nonce: creds.Nonce}
	seen := map[ElementType]bool{}
	for i := range pd.Data {
		ep := &pd.Data[i]
		if !ep.Type.Valid() || seen[ep.Type] {
			return nil, fmt.Errorf("passport: decrypt: element %d: type %q is unknown or repeated", i, ep.Type)
		}
		seen[ep.Type] = true
		e, err := decryptElement(ep, creds.SecureData[ep.Type], files)
		if err != nil {
			return nil, fmt.Errorf("passport: decrypt %s: %w", ep.Type, err)
		}
		out.Elements = append(out.Elements, e)
	}
	return out, nil
}

func decryptCredentials(priv *rsa.PrivateKey, ec *EncryptedCredentials) (*Credentials, error) {
	data, err := unb64("credentials.data", ec.Data, maxCredentialsSize)
	if err != nil {
		return nil, err
	}
	hash, err := unb64("credentials.hash", ec.Hash, 64)
	if err != nil {
		return nil, err
	}
	enc, err := unb64("credentials.secret", ec.Secret, 1024)
	if err != nil {
		return nil, err
	}
	secret, err := rsaDecrypt(priv, enc)
	if err != nil {
		return nil, fmt.Errorf("passport: %w", err)
	}
	plain, err := decryptData(data, hash, secret)
	if err != nil {
		return nil, fmt.Errorf("passport: credentials: %w", err)
	}
	var c Credentials
	if err := json.Unmarshal(plain, &c); err != nil {
		return nil, fmt.Errorf("passport: credentials JSON: %w", err)
	}
	return &c, nil
}

func decryptElement(ep *EncryptedPassportElement, sv *SecureValue, files map[string][]byte) (*Element, error) {
	e := &Element{Type: ep.Type}
	switch ep.Type {
	case TypePhoneNumber:
		e.Value = ep.PhoneNumber
		return e, nil
	case TypeEmail:
		e.Value = ep.Email
		return e, nil
	}
	if sv == nil {
		return nil, errors.New("no credentials for this element")
	}
	if ep.Data != "" {
		if sv.Data == nil {
			return nil, errors.New("data: no credentials")
		}
		ct, err := unb64("data", ep.Data, maxDataSize)
		if err != nil {
			return nil, err
		}
		plain, err := decryptWith(ct, sv.Data.DataHash, sv.Data.Secret)
		if err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		if err := json.Unmarshal(plain, &e.Data); err != nil {
			return nil, fmt.Errorf("data JSON: %w", err)
		}
	}
	one := func(role string, pf *PassportFile, fc *FileCredentials) (*File, error) {
		if pf == nil {
			return nil, nil
		}
		if fc == nil {
			return nil, fmt.Errorf("%s: no credentials", role)
		}
		f, err := decryptFile(pf, fc, files)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", role, err)
		}
		return f, nil
	}
	var err error
	if e.FrontSide, err = one(RoleFrontSide, ep.FrontSide, sv.FrontSide); err != nil {
		return nil, err
	}
	if e.ReverseSide, err = one(RoleReverseSide, ep.ReverseSide, sv.ReverseSide); err != nil {
		return nil, err
	}
	if e.Selfie, err = one(RoleSelfie, ep.Selfie, sv.Selfie); err != nil {
		return nil, err
	}
	if e.Files, err = decryptList(RoleFiles, ep.Files, sv.Files, files); err != nil {
		return nil, err
	}
	if e.Translation, err = decryptList(RoleTranslation, ep.Translation, sv.Translation, files); err != nil {
		return nil, err
	}
	return e, nil
}

func decryptList(role string, pfs []PassportFile, fcs []FileCredentials, files map[string][]byte) ([]File, error) {
	if len(pfs) != len(fcs) {
		return nil, fmt.Errorf("%s: %d files but %d credentials", role, len(pfs), len(fcs))
	}
	if len(pfs) > MaxFiles {
		return nil, fmt.Errorf("%s: %d files, the limit is %d", role, len(pfs), MaxFiles)
	}
	var out []File
	for i := range pfs {
		f, err := decryptFile(&pfs[i], &fcs[i], files)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", role, i, err)
		}
		out = append(out, *f)
	}
	return out, nil
}

func decryptFile(pf *PassportFile, fc *FileCredentials, files map[string][]byte) (*File, error) {
	ct, ok := files[pf.FileID]
	if !ok {
		return nil, fmt.Errorf("file %q was not delivered", pf.FileID)
	}
	plain, err := decryptWith(ct, fc.FileHash, fc.Secret)
	if err != nil {
		return nil, err
	}
	return &File{Name: pf.FileID, MIME: SniffMIME(plain), Bytes: plain}, nil
}

func decryptWith(ct []byte, hash64, secret64 string) ([]byte, error) {
	hash, err := unb64("hash", hash64, 64)
	if err != nil {
		return nil, err
	}
	secret, err := unb64("secret", secret64, 64)
	if err != nil {
		return nil, err
	}
	return decryptData(ct, hash, secret)
}

func unb64(what, s string, max int) ([]byte, error) {
	if base64.StdEncoding.DecodedLen(len(s)) > max {
		return nil, fmt.Errorf("%s: over %d bytes", what, max)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%s: not base64: %w", what, err)
	}
	return b, nil
}
