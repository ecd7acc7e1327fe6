package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node"
)

// A live room for the tests below: the host creates it, with a description
// long enough to wrap on a phone; each of the others joins it by its ID.
func liveRoom(t *testing.T, host *user, others ...*user) room.ID {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	info, err := host.n.CreateRoom(ctx, "Harbour talk",
		"Plans for the old harbour: the ferry timetable, the new footbridge and the fish market's opening hours. Bring your questions.",
		time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range others {
		// The host's node may not be reachable over the room's topic the
		// very moment the joiner starts: try again until the deadline.
		deadline := time.Now().Add(waitLimit)
		for {
			_, err := u.n.JoinRoom(ctx, info.ID.String(), nil)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s could not join the room: %v", u.name, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return info.ID
}

// roomSays has u say or ask text in the room (ask: a question).
func roomSays(t *testing.T, u *user, id room.ID, ask bool, text string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	f := u.n.RoomSay
	if ask {
		f = u.n.RoomAsk
	}
	if _, err := f(ctx, id, text); err != nil {
		t.Fatalf("%s: %q: %v", u.name, text, err)
	}
}

// waitRoom waits until u's node holds the room as the test made it: people
// present, questions and chat lines.
func waitRoom(t *testing.T, u *user, id room.ID, people, questions, lines int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%s's node to hold %d people, %d questions, %d chat lines", u.name, people, questions, lines), func() bool {
		p, err := u.n.RoomPeople(id)
		if err != nil || len(p.Present) != people {
			return false
		}
		qs, err := u.n.RoomQuestions(id)
		if err != nil || len(qs) != questions {
			return false
		}
		cs, err := u.n.RoomChat(id, 200)
		return err == nil && len(cs) == lines
	})
}

// layoutShift is a layout-shift entry of the page's, with what moved.
type layoutShift struct {
	Value   float64  `json:"value"`
	Sources []string `json:"sources"`
}

// recordShifts makes every page the tab opens from now on keep its
// layout-shift entries from its very start, for layoutShifts.
func recordShifts(ctx context.Context, t *chromedp.Target) error {
	_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `
		window.__shifts = [];
		window.__shiftObserver = new PerformanceObserver(list => window.__shifts.push(...list.getEntries()));
		window.__shiftObserver.observe({type: 'layout-shift', buffered: true});`})
	return err
}

// layoutShifts returns the page's layout shifts not caused by input, once
// two more frames have been drawn.
func layoutShifts(u *user) []layoutShift {
	u.t.Helper()
	return eval[[]layoutShift](u, `(async () => {
		await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 0))));
		window.__shifts.push(...window.__shiftObserver.takeRecords());
		const describe = n => !n ? '?' : n.nodeType !== 1 ? n.nodeName + ' in ' + describe(n.parentElement)
			: n.tagName.toLowerCase() + (n.id ? '#' + n.id : '') + (n.className ? '.' + String(n.className).trim().split(/\s+/).join('.') : '');
		const rect = r => r ? Math.round(r.x) + ',' + Math.round(r.y) + ' ' + Math.round(r.width) + 'x' + Math.round(r.height) : '-';
		return window.__shifts.filter(e => !e.hadRecentInput).map(e => ({
			value: e.value,
			sources: (e.sources || []).map(s => describe(s.node) + ' ' + rect(s.previousRect) + ' → ' + rect(s.currentRect)),
		}));
	})()`)
}

// TestBrowserRoomNarrowLayout: a room opened on a phone (390 px wide) with
// a description, people, questions and chat lines draws in its final
// layout: nothing on the page moves once it has been painted (the
// browser's layout-shift entries sum to 0). The room's two boxes come
// before their lists, where the keyboard reaches them first.
func TestBrowserRoomNarrowLayout(t *testing.T) {
	browser := newBrowser(t)
	host := newUser(t, browser, "Host")
	boot := host.n.Addrs()[0].String() + "/p2p/" + host.peerID()
	lee := newUser(t, browser, "Lee", boot)
	kim := newUser(t, browser, "Kim", boot)
	id := liveRoom(t, host, lee, kim)
	roomSays(t, host, id, false, "Welcome to the harbour talk, everyone")
	roomSays(t, lee, id, false, "Glad to be here")
	roomSays(t, kim, id, false, "Hello from the ferry")
	roomSays(t, lee, id, true, "When does the footbridge open?")
	roomSays(t, kim, id, true, "Will the ferry run on Sundays this winter, and how often?")
	roomSays(t, host, id, true, "Who wants a stall at the fish market?")
	roomSays(t, host, id, false, "Questions on the left, chat on the right")
	waitRoom(t, host, id, 3, 3, 4)

	// The host opens the room afresh in a phone-sized window.
	host.do("a phone-sized window that records layout shifts", chromedp.EmulateViewport(390, 844), chromedp.Func(recordShifts))
	host.goTo("#/room/"+id.String(), "room")
	host.do("reload", chromedp.Reload())
	host.waitJS("the room drawn", `document.querySelector('main').dataset.screen === 'room' && `+
		`document.querySelector('.room-desc').textContent.startsWith('Plans for the old harbour') && `+
		`document.querySelectorAll('#room-people .person').length === 3 && `+
		`document.querySelectorAll('#questions .question').length === 3 && `+
		`document.querySelectorAll('#room-chat .chat-line').length === 4 && `+
		containsText("#room-who", "You host this room"))
	var sum float64
	shifts := layoutShifts(host)
	for _, s := range shifts {
		sum += s.Value
	}
	if sum != 0 {
		t.Errorf("the room moved after its first paint at 390 px: layout shift %.4f, want 0", sum)
		for _, s := range shifts {
			t.Logf("shift %.4f: %s", s.Value, strings.Join(s.Sources, "; "))
		}
	}
	host.waitJS("one column that fits", `document.querySelector('.room-columns').getBoundingClientRect().right <= 390 && `+
		`document.querySelector('#room-chat').getBoundingClientRect().top > document.querySelector('#questions').getBoundingClientRect().top`)

	// The ask box comes before the questions, the chat's box before the
	// chat's lines, in the page's order (the keyboard's) as on screen.
	before := func(a, b string) string {
		return fmt.Sprintf(`(a => a.compareDocumentPosition(document.querySelector(%q)) & Node.DOCUMENT_POSITION_FOLLOWING)(document.querySelector(%q)) && `+
			`document.querySelector(%q).getBoundingClientRect().bottom <= document.querySelector(%q).getBoundingClientRect().top`, b, a, a, b)
	}
	host.waitJS("the ask box before the questions", before(".room-ask-form", "#questions"))
	host.waitJS("the chat's box before the chat", before(".room-say-form", "#room-chat"))
	eval[bool](host, `(() => { window.scrollTo(0, 0); return true })()`)
	host.shot("room-narrow")
}

// TestBrowserRoomUpvoteFocus: a keyboard user asks a question, then
// upvotes questions with Enter and Space, five times over; each upvote
// moves the question up the list, and the focus stays on that question's
// upvote button. A moderator's action that takes its own button away (mark
// answered, make a speaker) or its question or line (hide) leaves the
// focus on the nearest control, not on the page. A new question is
// announced alone.
func TestBrowserRoomUpvoteFocus(t *testing.T) {
	browser := newBrowser(t)
	host := newUser(t, browser, "Host")
	boot := host.n.Addrs()[0].String() + "/p2p/" + host.peerID()
	lee := newUser(t, browser, "Lee", boot)
	id := liveRoom(t, host, lee)
	// Six questions from the two of them, none upvoted: oldest first. Lee
	// asks the last one from the keyboard: the ask box is where his Tab
	// reaches first after the room's own controls, and keeps the focus.
	for i := range 5 {
		u := []*user{host, lee}[i%2]
		roomSays(t, u, id, true, fmt.Sprintf("Question %d from %s", i+1, u.name))
	}
	waitRoom(t, lee, id, 2, 5, 0)

	lee.goTo("#/room/"+id.String(), "room")
	lee.waitJS("five questions", `document.querySelectorAll('#questions .question').length === 5`)
	lee.waitJS("the ask box focused", `(i => { i.focus(); return document.activeElement === i })(document.querySelector('#room-ask'))`)
	lee.do("type a question", chromedp.KeyEvent("Question 6 from Lee"))
	lee.do("press Enter", chromedp.KeyEvent("\r"))
	lee.waitJS("six questions, the ask box empty and still focused", `document.querySelectorAll('#questions .question').length === 6 && `+
		`document.activeElement.id === 'room-ask' && document.activeElement.value === ''`)
	waitRoom(t, lee, id, 2, 6, 0)
	for try := 1; try <= 5; try++ {
		// The last question, with no votes: an upvote moves it to the top,
		// above the ones upvoted before (as many votes, asked later).
		q := eval[string](lee, `[...document.querySelectorAll('#questions .question')].at(-1).dataset.id`)
		sel := fmt.Sprintf(`#questions .question[data-id=%q]`, q)
		if p := eval[string](lee, fmt.Sprintf(`document.querySelector(%q).getAttribute('aria-pressed')`, sel+" button.upvote")); p != "false" {
			t.Errorf("try %d: a question not upvoted yet has its upvote button pressed %q", try, p)
		}
		lee.waitJS("the upvote button focused", fmt.Sprintf(`(b => { b.focus(); return document.activeElement === b })(document.querySelector(%q))`, sel+" button.upvote"))
		key, keyName := "\r", "Enter"
		if try%2 == 0 {
			key, keyName = " ", "Space"
		}
		lee.do("press "+keyName, chromedp.KeyEvent(key))
		lee.waitJS(fmt.Sprintf("try %d: the question upvoted, marked ours and moved up", try),
			fmt.Sprintf(`(q => q.dataset.upvotes === '1' && q.querySelector('button.upvote').getAttribute('aria-pressed') === 'true' && q === q.parentNode.firstElementChild)(document.querySelector(%q))`, sel))
		got := eval[string](lee, `(a => a.matches('#questions .question button.upvote') ? a.closest('.question').dataset.id : a.tagName + ' ' + (a.getAttribute('aria-label') || a.id))(document.activeElement)`)
		if got != q {
			t.Errorf("try %d (%s): after the upvote the focus is on %s, want the upvote button of question %s", try, keyName, got, q)
		}
	}

	// The host marks the top question answered from the keyboard: the
	// button goes; the focus moves to the next action of the same question.
	host.goTo("#/room/"+id.String(), "room")
	host.waitJS("six questions, five upvoted", `document.querySelectorAll('#questions .question').length === 6 && document.querySelectorAll('#questions .question[data-upvotes="1"]').length === 5`)
	top := eval[string](host, `document.querySelector('#questions .question').dataset.id`)
	topSel := fmt.Sprintf(`#questions .question[data-id=%q]`, top)
	host.waitJS("Mark answered focused", fmt.Sprintf(`(b => { b.focus(); return document.activeElement === b })(document.querySelector(%q))`, topSel+` button.mod[aria-label^="Mark answered"]`))
	host.do("press Enter", chromedp.KeyEvent("\r"))
	host.waitJS("the question answered", fmt.Sprintf(`document.querySelector(%q).classList.contains('answered')`, topSel))
	host.waitJS("the focus on the question's next action", fmt.Sprintf(`document.activeElement.matches(%q)`, topSel+` button.mod[aria-label^="Pin"]`))

	// It hides that question: the focus goes to the same action of the
	// question now in its place.
	host.waitJS("Hide focused", fmt.Sprintf(`(b => { b.focus(); return document.activeElement === b })(document.querySelector(%q))`, topSel+` button.mod[aria-label^="Hide"]`))
	host.do("press Space", chromedp.KeyEvent(" "))
	host.waitJS("the question hidden", fmt.Sprintf(`!document.querySelector(%q) && document.querySelectorAll('#questions .question').length === 5`, topSel))
	host.waitJS("the focus on the next question's Hide", `document.activeElement.matches('#questions .question:first-child button.mod[aria-label^="Hide"]')`)

	// A new question is announced on its own, not with the whole list
	// (which is no live region: it is redrawn whole at every change).
	roomSays(t, lee, id, true, "One more from Lee")
	host.waitJS("the new question announced", `document.querySelector('#announce').textContent === 'New question from Lee: One more from Lee' && `+
		`!document.querySelector('#questions').hasAttribute('aria-live') && document.activeElement.matches('#questions button.mod')`)

	// In the chat, a moderator's action that takes its own button away
	// (making Lee a speaker) leaves the focus on Lee's line, and one that
	// takes the line away (hiding it) on the line now in its place: in the
	// chat, not on the page.
	roomSays(t, lee, id, false, "A line from Lee")
	roomSays(t, lee, id, false, "Another line from Lee")
	lineOf := func(text string) string {
		return `[...document.querySelectorAll('#room-chat .chat-line')].find(l => l.querySelector('.text')?.textContent === ` + jsString(text) + `)`
	}
	pressOn := func(text, label, keyName, key string) string {
		t.Helper()
		// The line first: its actions show, and take the focus, only while
		// the line holds it.
		host.waitJS(label+" focused", fmt.Sprintf(`(l => { if (!l) return false; l.focus(); const b = l.querySelector(%q); if (!b) return false; b.focus(); return document.activeElement === b })(`+lineOf(text)+`)`, `button.mod[aria-label^="`+label+`"]`))
		lineID := eval[string](host, lineOf(text)+`.dataset.id`)
		host.do("press "+keyName, chromedp.KeyEvent(key))
		return lineID
	}
	lineID := pressOn("A line from Lee", "Make speaker", "Enter", "\r")
	host.waitJS("Lee made a speaker, the button gone, the focus on his line", fmt.Sprintf(
		`!document.querySelector('#room-chat .chat-line[data-id=%q] button.mod[aria-label^="Make speaker"]') && document.activeElement.closest('#room-chat .chat-line')?.dataset.id === %q`, lineID, lineID))
	lineID = pressOn("A line from Lee", "Hide", "Space", " ")
	host.waitJS("the line hidden, the focus on a line of the chat", fmt.Sprintf(
		`!document.querySelector('#room-chat .chat-line[data-id=%q]') && document.activeElement.closest('#room-chat .chat-line') !== null`, lineID))
}

// namesJS lists the controls named by aria-label whose name does not hold
// the text they show (WCAG 2.5.3, label in name), compared without case
// and with white space collapsed; an icon may be left out of the name only
// when it is aria-hidden, and what is aria-hidden in a control may hold no
// words. It returns the problems and how many controls it checked.
const namesJS = `(() => {
	const norm = s => (s || '').replace(/\s+/g, ' ').trim().toLowerCase();
	const words = /[\p{L}\p{N}]/u;
	const describe = el => el.outerHTML.slice(0, 140);
	const problems = [];
	let checked = 0;
	// shown is the text el shows: its text nodes, without sr-only and
	// aria-hidden parts (those it reports when they hold words).
	const shown = (el, rendered) => {
		let s = '';
		const walk = n => {
			for (const c of n.childNodes) {
				if (c.nodeType === Node.TEXT_NODE) { s += c.data; continue; }
				if (c.nodeType !== Node.ELEMENT_NODE) continue;
				if (rendered ? !c.checkVisibility() : c.hidden) continue;
				if (c.classList.contains('sr-only')) continue;
				if (c.getAttribute('aria-hidden') === 'true') {
					if (words.test(c.textContent)) problems.push('words hidden from the name: ' + describe(el));
					continue;
				}
				const block = rendered && !getComputedStyle(c).display.startsWith('inline');
				if (block) s += ' ';
				walk(c);
				if (block) s += ' ';
			}
		};
		walk(el);
		return s;
	};
	const controls = 'button, a[href], input, select, textarea, summary, [role=button], [role=link], [role=checkbox], [role=radio], ' +
		'[role=switch], [role=tab], [role=menuitem], [role=menuitemcheckbox], [role=menuitemradio], [role=option], [role=treeitem]';
	for (const el of document.querySelectorAll(controls)) {
		if (!el.hasAttribute('aria-label')) continue;
		checked++;
		const rendered = el.checkVisibility();
		let text;
		if (el.matches('input[type=button], input[type=submit], input[type=reset]')) text = el.value;
		else if (el.matches('input, select, textarea')) {
			text = [...(el.labels || [])].filter(l => !l.classList.contains('sr-only') && (!rendered || l.checkVisibility())).map(l => shown(l, rendered)).join(' ');
		} else text = shown(el, rendered);
		const name = norm(el.getAttribute('aria-label'));
		if (norm(text) && !name.includes(norm(text))) problems.push('shows "' + norm(text) + '", named "' + name + '": ' + describe(el));
	}
	return {problems, checked};
})()`

// checkNames fails the test for each control of u's screen whose
// accessible name (from aria-label) does not hold its visible text, and
// returns how many it checked.
func checkNames(u *user, screen string) int {
	u.t.Helper()
	res := eval[struct {
		Problems []string `json:"problems"`
		Checked  int      `json:"checked"`
	}](u, namesJS)
	for _, p := range res.Problems {
		u.t.Errorf("%s: screen %s: %s", u.name, screen, p)
	}
	return res.Checked
}

// TestBrowserRoomAccessibleNames walks every screen with something on it
// (a conversation, a request, a group invitation, a room with the host's
// tools, contacts with a safety number open, the status, a thread) and
// checks that every control named by aria-label says in its name the text
// it shows, so that a voice-control user can say what they see. Declining
// the invitation and the request by keyboard leaves the focus on the page.
func TestBrowserRoomAccessibleNames(t *testing.T) {
	browser := newBrowser(t)
	host := newUser(t, browser, "Host")
	boot := host.n.Addrs()[0].String() + "/p2p/" + host.peerID()
	lee := newUser(t, browser, "Lee", boot)
	kim := newUser(t, browser, "Kim", boot)
	befriend(t, host, lee)
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	// Lee writes to the host; Kim, a stranger, sends a request.
	if _, err := lee.n.Send(ctx, host.n.ID(), node.Outgoing{Kind: node.KindText, Body: "Are you coming to the harbour talk?"}); err != nil {
		t.Fatal(err)
	}
	if _, err := kim.n.AddContact(ctx, host.n.Self().Invite, "Host"); err != nil {
		t.Fatal(err)
	}
	if _, err := kim.n.Send(ctx, host.n.ID(), node.Outgoing{Kind: node.KindText, Body: "Hello, we met on the ferry"}); err != nil {
		t.Fatal(err)
	}
	// Lee invites the host to a group.
	g, err := lee.n.CreateGroup(ctx, "Harbour crew")
	if err != nil {
		t.Fatal(err)
	}
	if err := lee.n.InviteToGroup(ctx, g.ID, host.n.ID()); err != nil {
		t.Fatal(err)
	}
	// A room the host runs, with lines and questions from the others.
	id := liveRoom(t, host, lee, kim)
	roomSays(t, lee, id, false, "Glad to be here")
	roomSays(t, kim, id, false, "Hello from the ferry")
	roomSays(t, lee, id, true, "When does the footbridge open?")
	roomSays(t, kim, id, true, "Will the ferry run on Sundays?")
	waitRoom(t, host, id, 3, 2, 2)

	checked := map[string]int{}
	host.goTo("#/inbox", "inbox")
	host.waitJS("Lee's conversation", containsText("#inbox-list .conversation", "Lee"))
	checked["inbox"] = checkNames(host, "inbox")

	host.goTo("#/requests", "requests")
	host.waitJS("Kim's request", containsText("#requests-list .request", "we met on the ferry"))
	checked["requests"] = checkNames(host, "requests")

	host.goTo("#/groups", "groups")
	host.waitJS("the invitation", containsText("#group-invites .group-invite", "Harbour crew"))
	checked["groups"] = checkNames(host, "groups")

	host.goTo("#/rooms", "rooms")
	host.waitJS("the room listed", containsText("#rooms-list .room-item", "Harbour talk"))
	checked["rooms"] = checkNames(host, "rooms")

	host.goTo("#/room/"+id.String(), "room")
	host.waitJS("the room with the host's tools", `document.querySelectorAll('#questions .question').length === 2 && `+
		`document.querySelectorAll('#room-chat .chat-line').length === 2 && document.querySelector('#mod-tools').checked && `+
		`document.querySelectorAll('#room-chat button.mod').length >= 6`)
	checked["room"] = checkNames(host, "room")

	host.goTo("#/identity", "identity")
	host.waitJS("the contacts", fmt.Sprintf(`document.querySelector('#contacts-list .contact[data-peer=%q]') && document.querySelector('#contacts-list .contact[data-peer=%q]')`, lee.peerID(), kim.peerID()))
	host.click(fmt.Sprintf(`#contacts-list .contact[data-peer=%q] .safety summary`, lee.peerID()))
	host.waitJS("the safety number", fmt.Sprintf(`document.querySelector('#contacts-list .contact[data-peer=%q] .safety-body button') !== null`, lee.peerID()))
	checked["identity"] = checkNames(host, "identity")

	host.goTo("#/status", "status")
	host.waitJS("the status", `document.querySelector('#st-peer') !== null`)
	checked["status"] = checkNames(host, "status")

	host.goTo("#/chat/"+lee.peerID(), "chat")
	host.waitJS("Lee's message", containsText("#thread-log .msg.inbound", "harbour talk"))
	checked["thread"] = checkNames(host, "thread")

	// The screens with per-item buttons had some to check.
	for _, s := range []string{"requests", "groups", "room", "identity", "thread"} {
		if checked[s] == 0 {
			t.Errorf("screen %s: no control named by aria-label to check", s)
		}
	}
	t.Logf("controls named by aria-label, checked per screen: %v", checked)

	// Declining by keyboard, the invitation and the request go, and the
	// focus goes to the screen's heading (nothing else is left), not to
	// the page.
	declined := func(screen, button, gone string) {
		host.goTo("#/"+screen, screen)
		host.waitJS("Decline focused", fmt.Sprintf(`(b => { b.focus(); return document.activeElement === b })(document.querySelector(%q))`, button))
		host.do("press Enter", chromedp.KeyEvent("\r"))
		host.waitJS(screen+": declined", gone)
		host.waitJS(screen+": the focus on the heading", `document.activeElement === document.querySelector('main h1')`)
	}
	declined("groups", `#group-invites button[aria-label^="Decline"]`, `!document.querySelector('#group-invites .group-invite')`)
	declined("requests", `#requests-list button[aria-label^="Decline"]`, `!document.querySelector('#requests-list .request')`)
}
