package passport

import (
	"fmt"
	"unicode/utf8"
)

// Sources of a PassportElementError, as the Bot API names them.
const (
	SourceData             = "data"
	SourceFrontSide        = "front_side"
	SourceReverseSide      = "reverse_side"
	SourceSelfie           = "selfie"
	SourceFile             = "file"
	SourceFiles            = "files"
	SourceTranslationFile  = "translation_file"
	SourceTranslationFiles = "translation_files"
	SourceUnspecified      = "unspecified"
)

// MaxErrorMessage bounds an error's message.
const MaxErrorMessage = 1024

// PassportElementError is an issue a service found in a shared element,
// in the Bot API's shape (setPassportDataErrors): source and type always,
// then the field the source needs (hashes are the base64 values of the
// share: data_hash and file_hash from the credentials, element_hash from
// the element's hash).
type PassportElementError struct {
	Source      string      `json:"source"`
	Type        ElementType `json:"type"`
	FieldName   string      `json:"field_name,omitempty"`
	DataHash    string      `json:"data_hash,omitempty"`
	FileHash    string      `json:"file_hash,omitempty"`
	FileHashes  []string    `json:"file_hashes,omitempty"`
	ElementHash string      `json:"element_hash,omitempty"`
	Message     string      `json:"message"`
}

// Validate checks the error has the fields its source needs and a type the
// source applies to.
func (pe *PassportElementError) Validate() error {
	if !pe.Type.Valid() {
		return fmt.Errorf("passport error: type %q is not an element type", pe.Type)
	}
	if pe.Message == "" || len(pe.Message) > MaxErrorMessage || !utf8.ValidString(pe.Message) {
		return fmt.Errorf("passport error (%s, %s): message must be 1-%d bytes of UTF-8", pe.Source, pe.Type, MaxErrorMessage)
	}
	need := func(ok bool, field string) error {
		if !ok {
			return fmt.Errorf("passport error (%s, %s): %s is required for this source", pe.Source, pe.Type, field)
		}
		return nil
	}
	typeOK := func(ok bool, which string) error {
		if !ok {
			return fmt.Errorf("passport error: source %s does not apply to %s (only %s)", pe.Source, pe.Type, which)
		}
		return nil
	}
	hashesOK := len(pe.FileHashes) > 0 && len(pe.FileHashes) <= MaxFiles*2
	switch pe.Source {
	case SourceData:
		s := schemaOf(pe.Type)
		if err := typeOK(len(s.required) > 0, "personal_details, identity documents and address"); err != nil {
			return err
		}
		if err := need(pe.FieldName != "" && s.allows(pe.FieldName), "field_name (a data field of the type)"); err != nil {
			return err
		}
		return need(pe.DataHash != "", "data_hash")
	case SourceFrontSide, SourceSelfie:
		if err := typeOK(pe.Type.IsIdentityDocument(), "identity documents"); err != nil {
			return err
		}
		return need(pe.FileHash != "", "file_hash")
	case SourceReverseSide:
		if err := typeOK(schemaOf(pe.Type).reverse, "driver_license and identity_card"); err != nil {
			return err
		}
		return need(pe.FileHash != "", "file_hash")
	case SourceFile, SourceFiles:
		if err := typeOK(pe.Type.IsProofOfAddress(), "proofs of address"); err != nil {
			return err
		}
		if pe.Source == SourceFile {
			return need(pe.FileHash != "", "file_hash")
		}
		return need(hashesOK, "file_hashes")
	case SourceTranslationFile, SourceTranslationFiles:
		if err := typeOK(pe.Type.hasTranslation(), "identity documents and proofs of address"); err != nil {
			return err
		}
		if pe.Source == SourceTranslationFile {
			return need(pe.FileHash != "", "file_hash")
		}
		return need(hashesOK, "file_hashes")
	case SourceUnspecified:
		return need(pe.ElementHash != "", "element_hash")
	}
	return fmt.Errorf("passport error: source %q: use data, front_side, reverse_side, selfie, file, files, translation_file, translation_files or unspecified", pe.Source)
}
