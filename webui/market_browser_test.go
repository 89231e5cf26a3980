package webui_test

import "testing"

func testMarket(t *testing.T, b *browser) { t.Skip("todo") }
