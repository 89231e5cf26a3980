package webui_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// testNodePage: the node page shows this node's peer ID and its peers.
func testNodePage(t *testing.T, b *browser) {
	b.open(t, 0, "/ui/")
	peerID := run(t, b, 0, "read the peer ID", chromedp.Text(chromedp.CSS("#peer-id")))
	if peerID != b.ids[0].PeerID {
		t.Fatalf("node page shows peer %q, want %q", peerID, b.ids[0].PeerID)
	}
	b.waitJS(t, 0, "two peers in the table", `document.querySelectorAll('#peers tr').length === 3`)
	b.screenshots(t, "node")
}

// testChat: a message sent from node 1's page appears on node 2's open
// conversation without a reload, and node 1's page shows it delivered.
func testChat(t *testing.T, b *browser) {
	b.open(t, 1, "/ui/chat?with="+b.ids[0].PeerID)
	b.open(t, 0, "/ui/chat?with="+b.ids[1].PeerID)
	const text = "hello from the browser <b>not bold</b>"
	b.do(t, 0, "send a message",
		chromedp.SetValue(chromedp.CSS(`#send textarea[name="text"]`), text),
		chromedp.Click(chromedp.CSS(`#send button`)))
	b.waitJS(t, 1, "the message on the other page",
		`Array.from(document.querySelectorAll('#messages .msg.in .text')).some(e => e.textContent === `+jsString(text)+`)`)
	b.waitJS(t, 0, "the message delivered on the sender's page",
		`Array.from(document.querySelectorAll('#messages .msg.out')).some(e => e.querySelector('.text').textContent === `+jsString(text)+
			` && e.querySelector('.status') && e.querySelector('.status').textContent.startsWith('delivered'))`)
	if bold := run(t, b, 1, "count bold elements", chromedp.Evaluate[int](`document.querySelectorAll('#messages b').length`)); bold != 0 {
		t.Fatal("the message's markup reached the DOM unescaped")
	}
	b.noReload(t, 0)
	b.noReload(t, 1)
	b.screenshots(t, "chat")
}

// testLogin: after logging out, the pages lead to the login form, a wrong
// token is refused there, and pasting the right one opens the node page.
func testLogin(t *testing.T, b *browser) {
	b.open(t, 0, "/ui/")
	b.do(t, 0, "log out", chromedp.Click(chromedp.CSS(`.logout button`)), chromedp.WaitVisible(chromedp.CSS(`#login`)))
	b.do(t, 0, "open a page without a session", chromedp.Navigate(b.c.Nodes[0].APIURL()+"/ui/market"),
		chromedp.WaitVisible(chromedp.CSS(`#login`)))
	b.do(t, 0, "paste a wrong token",
		chromedp.SetValue(chromedp.CSS(`#login input[name="token"]`), "not-the-token"),
		chromedp.Click(chromedp.CSS(`#login button`)), chromedp.WaitVisible(chromedp.CSS(`.page-error`)))
	token, err := b.c.Homes[0].Token()
	if err != nil {
		t.Fatal(err)
	}
	b.do(t, 0, "paste the token",
		chromedp.SetValue(chromedp.CSS(`#login input[name="token"]`), token),
		chromedp.Click(chromedp.CSS(`#login button`)), chromedp.WaitVisible(chromedp.CSS(`#peer-id`)))
	if html := run(t, b, 0, "read the page", chromedp.OuterHTML(chromedp.CSS(`html`))); strings.Contains(html, token) {
		t.Fatal("the node page holds the API token")
	}
}
