package passport

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// The Bot API shapes a service receives, with Telegram's JSON field names.
// Binary values are standard base64.

// PassportData is what a service receives: the shared elements and the
// credentials to decrypt them.
type PassportData struct {
	Data        []EncryptedPassportElement `json:"data"`
	Credentials EncryptedCredentials       `json:"credentials"`
}

// EncryptedPassportElement is one shared element. Data is the encrypted
// data JSON; phone_number and email travel in the clear, as in Telegram.
type EncryptedPassportElement struct {
	Type        ElementType    `json:"type"`
	Data        string         `json:"data,omitempty"`
	PhoneNumber string         `json:"phone_number,omitempty"`
	Email       string         `json:"email,omitempty"`
	Files       []PassportFile `json:"files,omitempty"`
	FrontSide   *PassportFile  `json:"front_side,omitempty"`
	ReverseSide *PassportFile  `json:"reverse_side,omitempty"`
	Selfie      *PassportFile  `json:"selfie,omitempty"`
	Translation []PassportFile `json:"translation,omitempty"`
	Hash        string         `json:"hash"`
}

// PassportFile names an encrypted file. Telegram serves the bytes by
// file_id; tonmesh delivers them alongside, keyed by file_id.
type PassportFile struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	FileSize     int64  `json:"file_size"`
	FileDate     int64  `json:"file_date"`
}

// EncryptedCredentials holds the encrypted Credentials JSON, its hash, and
// the credentials secret encrypted with the service's RSA key (OAEP).
type EncryptedCredentials struct {
	Data   string `json:"data"`
	Hash   string `json:"hash"`
	Secret string `json:"secret"`
}

// Credentials is the decrypted credentials JSON.
type Credentials struct {
	SecureData map[ElementType]*SecureValue `json:"secure_data"`
	Nonce      string                       `json:"nonce"`
}

// SecureValue holds the hashes and secrets of one element's parts.
type SecureValue struct {
	Data        *DataCredentials  `json:"data,omitempty"`
	FrontSide   *FileCredentials  `json:"front_side,omitempty"`
	ReverseSide *FileCredentials  `json:"reverse_side,omitempty"`
	Selfie      *FileCredentials  `json:"selfie,omitempty"`
	Translation []FileCredentials `json:"translation,omitempty"`
	Files       []FileCredentials `json:"files,omitempty"`
}

// DataCredentials decrypts an element's data.
type DataCredentials struct {
	DataHash string `json:"data_hash"`
	Secret   string `json:"secret"`
}

// FileCredentials decrypts one file.
type FileCredentials struct {
	FileHash string `json:"file_hash"`
	Secret   string `json:"secret"`
}

// Share is a built share: the PassportData for the service and the
// encrypted file bytes by file_id.
type Share struct {
	Data  *PassportData
	Files map[string][]byte
	Types []ElementType
}

// SelectElements applies scope to the owner's elements: for each entry the
// first option the owner has, projected to exactly what is asked (Project).
// It returns those and the types of entries the owner cannot satisfy.
func SelectElements(s *Scope, owned map[ElementType]*Element) ([]*Element, []ElementType) {
	chosen, missing := s.Select(func(t ElementType) bool { return owned[t] != nil })
	out := make([]*Element, 0, len(chosen))
	for _, o := range chosen {
		out = append(out, Project(owned[o.Type], o))
	}
	return out, missing
}

// BuildShare encrypts elements for the service key pub as the Telegram
// Passport specification prescribes: each element's data and each file
// with its own secret, and Credentials (the secrets and hashes, and nonce)
// encrypted with a fresh secret that is itself encrypted with RSA-OAEP. The
// elements are shared as given: select and project them first.
func BuildShare(pub *rsa.PublicKey, nonce string, elements []*Element, now time.Time) (*Share, error) {
	if pub == nil {
		return nil, errors.New("passport: build share: no service public key")
	}
	sh := &Share{Data: &PassportData{Data: []EncryptedPassportElement{}}, Files: map[string][]byte{}}
	creds := Credentials{SecureData: map[ElementType]*SecureValue{}, Nonce: nonce}
	for _, e := range elements {
		if _, dup := creds.SecureData[e.Type]; dup {
			return nil, fmt.Errorf("passport: build share: %s given twice", e.Type)
		}
		enc, sv, err := encryptElement(e, sh.Files, now)
		if err != nil {
			return nil, err
		}
		sh.Data.Data = append(sh.Data.Data, *enc)
		sh.Types = append(sh.Types, e.Type)
		if sv != nil {
			creds.SecureData[e.Type] = sv
		}
	}
	plain, err := json.Marshal(creds)
	if err != nil {
		return nil, fmt.Errorf("passport: encode credentials: %w", err)
	}
	c, err := encryptData(plain)
	if err != nil {
		return nil, err
	}
	secret, err := rsaEncrypt(pub, c.secret)
	if err != nil {
		return nil, err
	}
	sh.Data.Credentials = EncryptedCredentials{Data: base64.StdEncoding.EncodeToString(c.data), Hash: base64.StdEncoding.EncodeToString(c.hash), Secret: base64.StdEncoding.EncodeToString(secret)}
	return sh, nil
}

func encryptElement(e *Element, files map[string][]byte, now time.Time) (*EncryptedPassportElement, *SecureValue, error) {
	out := &EncryptedPassportElement{Type: e.Type}
	switch e.Type {
	case TypePhoneNumber:
		out.PhoneNumber = e.Value
		sum := sha256.Sum256([]byte(e.Value))
		out.Hash = base64.StdEncoding.EncodeToString(sum[:])
		return out, nil, nil
	case TypeEmail:
		out.Email = e.Value
		sum := sha256.Sum256([]byte(e.Value))
		out.Hash = base64.StdEncoding.EncodeToString(sum[:])
		return out, nil, nil
	}
	sv := &SecureValue{}
	elementHash := sha256.New()
	if len(e.Data) > 0 {
		plain, err := json.Marshal(e.Data)
		if err != nil {
			return nil, nil, fmt.Errorf("passport: encode %s data: %w", e.Type, err)
		}
		c, err := encryptData(plain)
		if err != nil {
			return nil, nil, err
		}
		out.Data = base64.StdEncoding.EncodeToString(c.data)
		sv.Data = &DataCredentials{DataHash: base64.StdEncoding.EncodeToString(c.hash), Secret: base64.StdEncoding.EncodeToString(c.secret)}
		elementHash.Write(c.hash)
	}
	addFile := func(f *File) (*PassportFile, *FileCredentials, error) {
		c, err := encryptData(f.Bytes)
		if err != nil {
			return nil, nil, err
		}
		id, err := newFileID()
		if err != nil {
			return nil, nil, err
		}
		files[id] = c.data
		uniq := sha256.Sum256(c.data)
		elementHash.Write(c.hash)
		return &PassportFile{FileID: id, FileUniqueID: base64.RawURLEncoding.EncodeToString(uniq[:12]), FileSize: int64(len(c.data)), FileDate: now.Unix()},
			&FileCredentials{FileHash: base64.StdEncoding.EncodeToString(c.hash), Secret: base64.StdEncoding.EncodeToString(c.secret)}, nil
	}
	var err error
	single := []struct {
		f    *File
		pf   **PassportFile
		cred **FileCredentials
	}{{e.FrontSide, &out.FrontSide, &sv.FrontSide}, {e.ReverseSide, &out.ReverseSide, &sv.ReverseSide}, {e.Selfie, &out.Selfie, &sv.Selfie}}
	for _, x := range single {
		if x.f != nil {
			if *x.pf, *x.cred, err = addFile(x.f); err != nil {
				return nil, nil, err
			}
		}
	}
	lists := []struct {
		fs   []File
		pf   *[]PassportFile
		cred *[]FileCredentials
	}{{e.Files, &out.Files, &sv.Files}, {e.Translation, &out.Translation, &sv.Translation}}
	for _, l := range lists {
		for i := range l.fs {
			pf, fc, err := addFile(&l.fs[i])
			if err != nil {
				return nil, nil, err
			}
			*l.pf = append(*l.pf, *pf)
			*l.cred = append(*l.cred, *fc)
		}
	}
	out.Hash = base64.StdEncoding.EncodeToString(elementHash.Sum(nil))
	return out, sv, nil
}

func newFileID() (string, error) {
	var b [18]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("passport: random file id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
