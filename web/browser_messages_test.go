package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/backchannel/backchannel/node"
	"github.com/backchannel/backchannel/storage"
)

// press sends real key events (as a keyboard would, through the browser's
// input pipeline) to whatever has the focus.
func (u *user) press(keys string, opts ...chromedp.KeyOption) {
	u.t.Helper()
	u.do(fmt.Sprintf("press %q", keys), chromedp.KeyEvent(keys, opts...))
}

// hover moves the mouse, as a real pointer would, to the middle of the
// first element that matches css.
func (u *user) hover(css string) {
	u.t.Helper()
	u.waitJS("to hover "+css, fmt.Sprintf(`document.querySelector(%q) !== null`, css))
	box := eval[[]float64](u, fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.scrollIntoView({block: 'nearest'}); const r = e.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2] })()`, css))
	u.do("move the mouse to "+css, chromedp.MouseEvent(chromedp.MouseMoved, box[0], box[1]))
}

// focused is a JavaScript test on the focused element.
func focused(test string) string {
	return `(e => !!e && (` + test + `))(document.activeElement)`
}

// actionsShown is a JavaScript test that the toolbar of the message that
// matches css is shown (or, with shown false, hidden and out of the tab
// order: no control of it with a tabindex above -1).
func actionsShown(css string, shown bool) string {
	if shown {
		return fmt.Sprintf(`(t => !!t && getComputedStyle(t).visibility === 'visible' && getComputedStyle(t).display !== 'none')(document.querySelector(%q + ' .msg-actions'))`, css)
	}
	return fmt.Sprintf(`(t => !!t && (getComputedStyle(t).visibility === 'hidden' || getComputedStyle(t).display === 'none') &&
		[...t.querySelectorAll('button')].every(b => b.tabIndex === -1 && getComputedStyle(b).visibility === 'hidden'))(document.querySelector(%q + ' .msg-actions'))`, css)
}

// oneTabStop is a JavaScript test that the list with id is one Tab stop:
// one message with tabindex 0, every other element in it -1.
func oneTabStop(id string) string {
	return fmt.Sprintf(`(l => [...l.children].filter(li => li.tabIndex === 0).length === 1 &&
		[...l.querySelectorAll('a, button, input, summary')].every(c => c.tabIndex === -1))(document.getElementById(%q))`, id)
}

// TestBrowserMessagesKeyboard: a thread used with the keyboard alone, with
// real key events. The thread opens with the focus in its composer; Enter
// sends and the focus stays there. Shift+Tab reaches the list, one Tab
// stop, at the newest message; the arrows move between messages; Enter
// goes into a message's actions, → to a reaction, Enter reacts, and the
// focus stays on that button while the list is redrawn; Escape goes back
// to the message, which stays the list's Tab stop; R replies.
func TestBrowserMessagesKeyboard(t *testing.T) {
	browser := newBrowser(t)
	alice := newUser(t, browser, "Alice")
	bob := newUser(t, browser, "Bob")
	befriend(t, alice, bob)
	const question = "Are you there?"
	if _, err := bob.n.Send(t.Context(), alice.n.ID(), node.Outgoing{Kind: "text", Body: question}); err != nil {
		t.Fatal(err)
	}

	alice.goTo("#/chat/"+bob.peerID(), "chat")
	alice.waitJS("the focus in the composer", focused(`e.id === 'composer'`))
	alice.waitJS("Bob's message", containsText("#thread-log .msg.inbound .body", question))
	// The live region wraps a plain list.
	alice.waitJS("a log around a plain list", `(l => l.parentElement.getAttribute('role') === 'log' && !l.hasAttribute('role') &&
		l.parentElement.getAttribute('aria-label') === 'Messages with Bob')(document.getElementById('thread-log'))`)

	// Type and send with keys; the focus stays in the composer.
	const hello = "Typed and sent by keyboard"
	alice.press(hello + kb.Enter)
	alice.waitJS("the message sent", containsText("#thread-log .msg.outbound .body", hello))
	alice.waitJS("the composer empty and still focused", focused(`e.id === 'composer' && e.value === ''`))

	// Shift+Tab: the list's one Tab stop, the newest message.
	alice.waitJS("one Tab stop in the list", oneTabStop("thread-log"))
	alice.press(kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift))
	alice.waitJS("the newest message focused", focused(`e.matches('#thread-log > li.msg.outbound:last-child') && e.textContent.includes(`+jsString(hello)+`)`))
	// Its name says who wrote what.
	if label := eval[string](alice, `document.activeElement.getAttribute('aria-label')`); !strings.HasPrefix(label, "You, ") || !strings.Contains(label, ": "+hello) {
		t.Errorf("the newest message is named %q", label)
	}
	alice.waitJS("its actions shown while it has the focus", actionsShown("#thread-log > li.msg.outbound:last-child", true))

	// ↑ to Bob's message; Enter into its actions: Reply; → to 👍; Enter.
	alice.press(kb.ArrowUp)
	alice.waitJS("Bob's message focused", focused(`e.matches('#thread-log > li.msg.inbound') && e.textContent.includes(`+jsString(question)+`)`))
	alice.waitJS("the Tab stop moved with it", `document.activeElement.tabIndex === 0 && `+oneTabStop("thread-log"))
	alice.press(kb.Enter)
	alice.waitJS("Reply focused", focused(`e.matches('#thread-log .msg.inbound .msg-actions button.reply') && e.closest('[role=toolbar]').getAttribute('aria-label') === 'Actions for this message'`))
	alice.press(kb.ArrowRight)
	alice.waitJS("👍 focused", focused(`e.getAttribute('aria-label') === 'React 👍 to: `+question+`'`))
	alice.shot("thread-keyboard-actions")
	alice.press(kb.ArrowLeft + kb.ArrowLeft)
	alice.waitJS("around to the last action", focused(`e.getAttribute('aria-label') === 'React 😮 to: `+question+`'`))
	alice.press(kb.ArrowRight + kb.ArrowRight)
	alice.waitJS("👍 focused again", focused(`e.getAttribute('aria-label') === 'React 👍 to: `+question+`'`))
	alice.press(kb.Enter)
	alice.waitJS("Alice's reaction on Bob's message", containsText("#thread-log .msg.inbound .reactions", "👍"))
	alice.waitJS("the focus kept on 👍 across the redraw", focused(`e.getAttribute('aria-label') === 'React 👍 to: `+question+`' && e.isConnected`))
	alice.waitJS("the message named with its reaction", `document.querySelector('#thread-log .msg.inbound').getAttribute('aria-label').includes('Reactions: 👍 1')`)

	// Escape: back on the message, still the list's Tab stop.
	alice.press(kb.Escape)
	alice.waitJS("Bob's message focused again", focused(`e.matches('#thread-log > li.msg.inbound')`))
	// Tab leaves the list for the composer. A message arrives (the list is
	// redrawn); Shift+Tab still comes back to the message last focused,
	// not the newest.
	alice.press(kb.Tab)
	alice.waitJS("out of the list, in the composer", focused(`e.id === 'composer'`))
	if _, err := bob.n.Send(t.Context(), alice.n.ID(), node.Outgoing{Kind: "text", Body: "One more thing"}); err != nil {
		t.Fatal(err)
	}
	alice.waitJS("Bob's second message", containsText("#thread-log .msg.inbound .body", "One more thing"))
	alice.press(kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift))
	alice.waitJS("back on Bob's first message", focused(`e.matches('#thread-log > li.msg.inbound') && e.textContent.includes(`+jsString(question)+`)`))

	// R replies: the composer, with the quote; Enter sends.
	alice.press("r")
	alice.waitJS("the reply chip, focus in the composer", focused(`e.id === 'composer'`)+` && `+containsText(".reply-chip", question))
	alice.press("Yes, here" + kb.Enter)
	alice.waitJS("the reply, quoting", `[...document.querySelectorAll('#thread-log .msg.outbound')].some(m =>
		m.querySelector('.body').textContent === 'Yes, here' && m.querySelector('.quote')?.textContent === `+jsString(question)+`)`)
	alice.waitJS("the focus in the composer", focused(`e.id === 'composer' && e.value === ''`))
	alice.shot("thread-keyboard")

	// Bob, invited to a group, opens it: the focus is on Join, Enter joins,
	// and the focus moves to the group's composer.
	g, err := alice.n.CreateGroup(t.Context(), "Keyboard club")
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.n.InviteToGroup(t.Context(), g.ID, bob.n.ID()); err != nil {
		t.Fatal(err)
	}
	waitNode(t, bob, "the invitation", func(n *node.Node) bool {
		h, err := n.Group(g.ID)
		return err == nil && h.State == storage.GroupInvited
	})
	bob.goTo("#/group/"+g.ID.String(), "group")
	bob.waitJS("the focus on Join", focused(`e.id === 'group-join'`))
	bob.press(kb.Enter)
	bob.waitJS("joined, the focus in the composer", focused(`e.id === 'group-composer'`)+` && !document.querySelector('.group-write').hidden`)

	kinds := messageKinds(t, bob, alice)
	if kinds["reaction"] != 1 || kinds["reply"] != 1 {
		t.Errorf("Bob's node holds %v, want Alice's reaction and reply among them", kinds)
	}
}

// TestBrowserMessagesActionsHidden: a message's actions are neither shown
// nor in the tab order until a real mouse pointer hovers the message or the
// focus is in it; shown, each control's name holds its visible words. The
// same in a 1:1 thread, a group's thread and a room's chat (with the
// moderator's buttons there); each list is a plain list inside its log.
func TestBrowserMessagesActionsHidden(t *testing.T) {
	browser := newBrowser(t)
	alice := newUser(t, browser, "Alice")
	bob := newUser(t, browser, "Bob")
	befriend(t, alice, bob)
	if _, err := bob.n.Send(t.Context(), alice.n.ID(), node.Outgoing{Kind: "text", Body: "Hover me"}); err != nil {
		t.Fatal(err)
	}
	nameHoldsText := func(u *user, css string) {
		t.Helper()
		bad := eval[[]string](u, fmt.Sprintf(`[...document.querySelectorAll(%q)].filter(b =>
			!(b.getAttribute('aria-label') || b.textContent).toLowerCase().includes(b.textContent.trim().toLowerCase())).map(b => b.outerHTML)`, css))
		for _, b := range bad {
			t.Errorf("%s: a control whose name does not hold its visible text: %s", u.name, b)
		}
	}
	away := chromedp.MouseEvent(chromedp.MouseMoved, 2, 2)
	// hoverList checks the list with id list, a plain list in a log and
	// one Tab stop, whose item's actions show only under the pointer.
	hoverList := func(u *user, list, item string) {
		t.Helper()
		u.waitJS("a log around a plain list", fmt.Sprintf(`(l => l.parentElement.getAttribute('role') === 'log' && !l.hasAttribute('role'))(document.getElementById(%q))`, list))
		u.waitJS("one Tab stop in "+list, oneTabStop(list))
		u.do("the pointer away", away)
		u.waitJS("the actions hidden", actionsShown(item, false))
		u.hover(item)
		u.waitJS("the actions shown on hover", actionsShown(item, true))
		nameHoldsText(u, "#"+list+" button")
	}

	// A 1:1 thread.
	const msg = "#thread-log > li.msg.inbound"
	alice.goTo("#/chat/"+bob.peerID(), "chat")
	alice.waitJS("Bob's message", containsText(msg+" .body", "Hover me"))
	alice.do("the pointer away", away)
	alice.waitJS("the actions hidden, out of the tab order", actionsShown(msg, false))
	alice.hover(msg)
	alice.waitJS("the actions shown on hover", actionsShown(msg, true))
	nameHoldsText(alice, "#thread-log button")
	alice.shot("thread-hover")
	alice.do("the pointer away", away)
	alice.waitJS("the actions hidden again", actionsShown(msg, false))
	alice.press(kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift))
	alice.waitJS("the message focused", focused(`e.matches(`+jsString(msg)+`)`))
	alice.waitJS("the actions shown with the focus", actionsShown(msg, true))

	// A group's thread (Alice alone in it).
	ctx := t.Context()
	g, err := alice.n.CreateGroup(ctx, "Hover club")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.n.GroupSend(ctx, g.ID, node.GroupOutgoing{Body: "A line to hover"}); err != nil {
		t.Fatal(err)
	}
	const line = "#group-log > li.msg.outbound"
	alice.goTo("#/group/"+g.ID.String(), "group")
	alice.waitJS("the focus in the group's composer", focused(`e.id === 'group-composer'`))
	alice.waitJS("the line", containsText(line+" .body", "A line to hover"))
	hoverList(alice, "group-log", line)
	alice.shot("group-hover")
	alice.do("the pointer away", away)

	// A room's chat, with the host's moderator tools.
	r, err := bob.n.CreateRoom(ctx, "Hover hall", "", time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.n.RoomSay(ctx, r.ID, "Chat line to hover"); err != nil {
		t.Fatal(err)
	}
	const chat = "#room-chat > li.chat-line"
	bob.goTo("#/room/"+r.ID.String(), "room")
	bob.waitJS("the chat line", containsText(chat+" .text", "Chat line to hover"))
	bob.waitJS("the host's tools", `document.querySelector('#mod-tools').checked && document.querySelector('#room-chat button.mod') !== null`)
	hoverList(bob, "room-chat", chat)
	bob.shot("room-chat-hover")
}
