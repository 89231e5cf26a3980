package main

import (
	"testing"

	"github.com/tonmesh/tonmesh/vault/passport"
)

// A saved file's name counts list entries from 1 and keeps only the base
// of the name the element carries: an element cannot write outside DIR.
func TestSavedNameStaysInTheDirectory(t *testing.T) {
	for _, c := range []struct{ role, name, want string }{
		{"front_side", "scan.jpg", "passport_front_side_scan.jpg"},
		{"files[0]", "../../etc/cron.d/x", "passport_files_1_x"},
		{"translation[19]", "/abs/page.pdf", "passport_translation_20_page.pdf"},
		{"selfie", "", "passport_selfie_file"},
		{"selfie", "..", "passport_selfie_file"},
	} {
		if got := savedName(passport.TypePassport, c.role, c.name); got != c.want {
			t.Errorf("savedName(%q, %q) = %q, want %q", c.role, c.name, got, c.want)
		}
	}
}
