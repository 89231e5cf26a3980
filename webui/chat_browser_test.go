package webui_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tonmesh/tonmesh/chat"
)

// testChatGroup: node 1's page creates a group with nodes 2 and 3; a
// message sent from the group's page appears on node 2's page of the group
// without a reload, and node 1's page shows how the members got it.
func testChatGroup(t *testing.T, b *browser) {
	b.open(t, 0, "/ui/chat")
	const name = "Browser <i>group</i>"
	b.do(t, 0, "create a group",
		chromedp.SetValue(chromedp.CSS(`#group-create input[name="name"]`), name),
		chromedp.SetValue(chromedp.CSS(`#group-create input[name="members"]`), b.ids[1].PeerID+", "+b.ids[2].PeerID),
		chromedp.Click(chromedp.CSS(`#group-create button`)))
	b.waitJS(t, 0, "the group in the list", `Array.from(document.querySelectorAll('.groups .group a')).some(a => a.textContent === `+jsString(name)+`)`)
	id := run(t, b, 0, "read the group's ID", chromedp.Evaluate[string](
		`Array.from(document.querySelectorAll('.groups .group')).find(g => g.querySelector('a').textContent === `+jsString(name)+`).dataset.id`))
	member := chat.NewClient(b.c.Client(t, 1).Client)
	waitUntil(t, "node 2 knows the group", func() (bool, string) {
		gs, err := member.Groups(context.Background())
		if err != nil {
			return false, err.Error()
		}
		return slices.ContainsFunc(gs.Groups, func(g chat.Group) bool { return g.ID == id }), ""
	})

	b.open(t, 1, "/ui/chat?group="+id)
	b.open(t, 0, "/ui/chat?group="+id)
	if got := run(t, b, 1, "read the group's name", chromedp.Text(chromedp.CSS(`#group-name`))); got != name {
		t.Fatalf("node 2's group page is named %q, want %q", got, name)
	}
	if members := run(t, b, 0, "count members", chromedp.Evaluate[int](`document.querySelectorAll('.members .member').length`)); members != 3 {
		t.Fatalf("the group page lists %d members, want 3", members)
	}
	const text = "to the whole group <b>not bold</b>"
	b.do(t, 0, "send to the group",
		chromedp.SetValue(chromedp.CSS(`#send textarea[name="text"]`), text),
		chromedp.Click(chromedp.CSS(`#send button`)))
	b.waitJS(t, 1, "the group message on node 2's page",
		`Array.from(document.querySelectorAll('#messages .msg.in')).some(e => e.querySelector('.text') && e.querySelector('.text').textContent === `+jsString(text)+
			` && e.querySelector('.from').title === `+jsString(b.ids[0].PeerID)+`)`)
	b.waitJS(t, 0, "the fan-out on the sender's page",
		`Array.from(document.querySelectorAll('#messages .msg.out')).some(e => e.querySelector('.text').textContent === `+jsString(text)+
			` && e.querySelector('.fanout') && e.querySelector('.fanout').textContent.includes('delivered'))`)
	if bold := run(t, b, 1, "count bold and italic elements", chromedp.Evaluate[int](`document.querySelectorAll('#messages b, #group-name i').length`)); bold != 0 {
		t.Fatal("the group's name or message reached the DOM unescaped")
	}
	b.noReload(t, 0)
	b.noReload(t, 1)
	b.screenshots(t, "group")
}

// testDevices: node 1's page makes a device link; pasted on node 3's page,
// node 3 becomes a linked device of node 1, which its page and node 1's
// list show; removing it on node 1's page takes it off the list.
func testDevices(t *testing.T, b *browser) {
	b.open(t, 0, "/ui/chat")
	b.do(t, 0, "make a device link", chromedp.Click(chromedp.CSS(`#device-link button`)),
		chromedp.WaitVisible(chromedp.CSS(`#device-link .result`)))
	var link chat.LinkResult
	raw := run(t, b, 0, "read the link", chromedp.Text(chromedp.CSS(`#device-link .result`)))
	if err := json.Unmarshal([]byte(raw), &link); err != nil || !strings.HasPrefix(link.Link, "tonmesh://chat-device?") {
		t.Fatalf("the link form showed %q (%v), want a tonmesh://chat-device link", raw, err)
	}
	b.open(t, 2, "/ui/chat")
	b.do(t, 2, "join with the link",
		chromedp.SetValue(chromedp.CSS(`#device-join input[name="link"]`), link.Link),
		chromedp.SetValue(chromedp.CSS(`#device-join input[name="name"]`), "browser-laptop"),
		chromedp.Click(chromedp.CSS(`#device-join button`)))
	b.waitJS(t, 2, "node 3's page says it is a linked device of node 1",
		`document.querySelector('[data-frag="devices"]').textContent.includes('linked device of') && `+
			`Array.from(document.querySelectorAll('.devices .device')).some(d => d.dataset.peer === `+jsString(b.ids[0].PeerID)+`)`)

	b.open(t, 0, "/ui/chat")
	b.waitJS(t, 0, "node 3 in node 1's device list",
		`Array.from(document.querySelectorAll('.devices .device')).some(d => d.dataset.peer === `+jsString(b.ids[2].PeerID)+` && d.textContent.includes('browser-laptop'))`)
	run(t, b, 0, "accept the confirmation", chromedp.Evaluate[bool](`(window.confirm = () => true, true)`))
	b.do(t, 0, "remove node 3",
		chromedp.Click(chromedp.CSS(`.devices .device[data-peer=`+jsString(b.ids[2].PeerID)+`] .remove-device button`)))
	b.waitJS(t, 0, "node 3 off node 1's device list",
		`document.querySelectorAll('.devices .device').length === 1 && !document.querySelector('.devices .device[data-peer=`+jsString(b.ids[2].PeerID)+`]')`)
	b.screenshots(t, "devices")
}

// waitUntil polls cond (an API check, not the page) for up to a minute.
func waitUntil(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	var last string
	for time.Now().Before(deadline) {
		var ok bool
		if ok, last = cond(); ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: not within a minute (last: %s)", what, last)
}
