package webui_test

import "testing"

func testPassport(t *testing.T, b *browser) { t.Skip("todo") }
