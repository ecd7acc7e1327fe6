package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/backchannel/backchannel/node"
)

// befriend makes a and b contacts of each other, by their invites (the UI
// for that is in TestBrowserRequestChat).
func befriend(t *testing.T, a, b *user) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if _, err := a.n.AddContact(ctx, b.n.Self().Invite, b.name); err != nil {
		t.Fatal(err)
	}
	if _, err := b.n.AddContact(ctx, a.n.Self().Invite, a.name); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserGroup: Alice creates a private group in her browser and invites
// her contacts Bob and Carol; they join from their browsers' Groups screen.
// Bob and Carol, strangers to each other, see each other by the names they
// announced in the group. A message, a reaction and an event with an RSVP
// are seen live in every browser, with what Alice sent read by both. Alice removes Carol: Carol's
// browser says she is no longer a member, and what Alice and Bob write next
// reaches Bob, not Carol.
func TestBrowserGroup(t *testing.T) {
	browser := newBrowser(t)
	alice := newUser(t, browser, "Alice")
	boot := alice.n.Addrs()[0].String() + "/p2p/" + alice.peerID()
	bob := newUser(t, browser, "Bob", boot)
	carol := newUser(t, browser, "Carol", boot)
	befriend(t, alice, bob)
	befriend(t, alice, carol)
	everyone := []*user{alice, bob, carol}

	// Alice creates the group and invites Bob and Carol, one at a time.
	alice.goTo("#/groups", "groups")
	alice.waitJS("the empty list", `!document.querySelector('#groups-list + .empty').hidden`)
	alice.typeIn("#f-create-group-name", "Supper club")
	alice.click(".create-group button[type=submit]")
	alice.waitJS("the new group", `location.hash.startsWith('#/group/') && document.querySelector('#group-title').textContent === 'Supper club'`)
	groupID := strings.TrimPrefix(eval[string](alice, `location.hash`), "#/group/")
	alice.waitJS("Alice the owner", `document.querySelector('#group-members .member[data-role="owner"]') !== null`)
	for _, who := range []string{"Bob", "Carol"} {
		alice.waitJS("the invite form", `!document.querySelector('#group-invite-form').hidden`)
		alice.typeIn("#group-invite", who)
		alice.click("#group-invite-form button[type=submit]")
		alice.waitJS(who+" invited", containsText("#group-invite-form .form-status", "Invited "+who))
	}

	// Bob and Carol see the invitation live and join from the list.
	for _, u := range []*user{bob, carol} {
		u.goTo("#/groups", "groups")
		u.waitJS("the invitation", containsText("#group-invites .group-invite", "Alice invited you"))
		u.waitJS("the groups badge", `document.querySelector('#badge-groups').textContent === '1'`)
		u.click(`#group-invites .group-invite[data-id="` + groupID + `"] button.primary`)
		u.waitJS("the group's thread", `location.hash === '#/group/`+groupID+`' && document.querySelector('#group-title').textContent === 'Supper club'`)
	}
	for _, u := range everyone {
		u.waitJS("three members", `document.querySelectorAll('#group-members .member').length === 3`)
		// The header speaks of members and roles, not of key epochs.
		if sub := eval[string](u, `document.querySelector('#group-sub').textContent`); strings.Contains(sub, "epoch") {
			t.Errorf("%s's group header says %q", u.name, sub)
		}
	}
	// Everyone holds the newest epoch's key before anyone writes: a line
	// sealed with a key a member has not got yet would wait for a sync.
	waitGroupKey(t, groupID, everyone...)
	// Bob and Carol are Alice's contacts, not each other's: each sees the
	// other by the profile name it announced in the group, not a peer ID.
	memberName := func(p string) string {
		return `#group-members .member[data-peer="` + p + `"] .member-name`
	}
	bob.waitJS("Carol by her name", containsText(memberName(carol.peerID()), "Carol")+
		` && !document.querySelector('`+memberName(carol.peerID())+`').textContent.includes('…')`)
	carol.waitJS("Bob by his name", containsText(memberName(bob.peerID()), "Bob")+
		` && !document.querySelector('`+memberName(bob.peerID())+`').textContent.includes('…')`)

	// A line from Alice, seen live by the others; Bob reacts and answers.
	const hello = "Who is in on Friday?"
	alice.typeIn("#group-composer", hello+"\r")
	for _, u := range []*user{bob, carol} {
		u.waitJS("Alice's line", containsText("#group-log .msg.inbound .body", hello))
		u.waitJS("Alice named", containsText("#group-log .msg.inbound .sender", "Alice"))
	}
	bob.click(`#group-log .msg.inbound button.react`)
	alice.waitJS("Bob's reaction", containsText("#group-log .msg.outbound .reactions", "👍"))
	bob.click(`#group-log .msg.inbound button.link`)
	bob.waitJS("the focus in the composer", `document.activeElement.id === 'group-composer'`)
	bob.typeIn("#group-composer", "Me!\r")
	for _, u := range []*user{alice, carol} {
		u.waitJS("Bob's reply, quoting", containsText("#group-log .msg.inbound .quote", hello))
	}
	carol.waitJS("Bob's reply under his name", `[...document.querySelectorAll('#group-log .msg.inbound')].some(m =>
		m.querySelector('.quote') && m.querySelector('.sender').textContent === 'Bob')`)
	// Both read Alice's line (their pages were open): her browser says so.
	alice.waitJS("Alice's line read by both", `document.querySelector('#group-log .msg.outbound .state').dataset.read === '2'`)

	// An event; Bob and Carol answer; Alice sees the answers live.
	alice.click("#event-box summary")
	alice.typeIn("#event-title", "Dinner at Rosa's")
	alice.do("the event's start", chromedp.SetValue(chromedp.CSS("#event-start"), "2030-03-08T19:30"))
	alice.click("#event-form button[type=submit]")
	for _, u := range []*user{bob, carol} {
		u.waitJS("the event", containsText("#group-log .msg.kind-event .event-title", "Dinner at Rosa's"))
	}
	bob.click(`#group-log .msg.kind-event button.rsvp-yes`)
	carol.click(`#group-log .msg.kind-event button.rsvp-maybe`)
	alice.waitJS("the RSVPs", containsText("#group-log .msg.kind-event .rsvp-summary", "1 going")+" && "+
		containsText("#group-log .msg.kind-event .rsvp-summary", "1 maybe"))
	bob.waitJS("Bob's answer pressed", `document.querySelector('#group-log .msg.kind-event button.rsvp-yes').getAttribute('aria-pressed') === 'true'`)
	alice.shot("groups")
	alice.do("narrow window", chromedp.EmulateViewport(390, 800))
	alice.waitJS("the composer and the members fit", `document.querySelector('#group-composer').getBoundingClientRect().right <= 390 && document.querySelector('#group-members').getBoundingClientRect().right <= 390`)
	alice.shot("groups-narrow")
	alice.do("wide window", chromedp.EmulateViewport(1200, 850))

	// Alice removes Carol. Carol's browser says she is out; the others see
	// two members.
	alice.click(`#group-members .member[data-peer="` + carol.peerID() + `"] button.remove-member`)
	carol.waitJS("Carol told she is out", containsText("#group-state", "no longer a member"))
	carol.waitJS("no composer for Carol", `document.querySelector('.group-write').hidden`)
	for _, u := range []*user{alice, bob} {
		u.waitJS("two members", `document.querySelectorAll('#group-members .member').length === 2`)
	}
	carol.goTo("#/groups", "groups")
	carol.waitJS("the group among the past ones", containsText("#groups-past .group-item", "you were removed"))
	carol.goTo("#/group/"+groupID, "group")

	// What Alice and Bob write next reaches Bob and Alice, not Carol.
	waitGroupKey(t, groupID, alice, bob)
	alice.typeIn("#group-composer", "Carol is out\r")
	bob.waitJS("Alice's line after the removal", containsText("#group-log .msg.inbound .body", "Carol is out"))
	bob.typeIn("#group-composer", "Just us now\r")
	alice.waitJS("Bob's line after the removal", containsText("#group-log .msg.inbound .body", "Just us now"))
	// The removal is a line of the timeline, before what was written after
	// it; Alice's timeline also says whom she added. Carol is Alice's
	// contact, not Bob's: he sees her short ID.
	alice.waitJS("the removal in the timeline", containsText(`#group-log .sys-line.change[data-kind="removed"]`, "Carol was removed"))
	bob.waitJS("the removal in the timeline", containsText(`#group-log .sys-line.change[data-kind="removed"]`, carol.peerID()[len(carol.peerID())-8:]+" was removed"))
	bob.waitJS("the removal before the lines after it", `(() => {
		const removed = document.querySelector('#group-log .change[data-kind="removed"]');
		const after = [...document.querySelectorAll('#group-log .msg')].find(m => m.textContent.includes('Carol is out'));
		return removed && after && (removed.compareDocumentPosition(after) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0;
	})()`)
	alice.waitJS("Alice's additions in the timeline", containsText(`#group-log .change[data-kind="added"]`, "You added Bob")+" && "+
		containsText(`#group-log .change[data-kind="added"]`, "You added Carol"))
	bob.shot("group-after-removal")
	// Bob's Groups list shows the group's last line, his, and its time.
	bob.goTo("#/groups", "groups")
	bob.waitJS("the last line in the list", containsText(`#groups-list .group-item[data-id="`+groupID+`"] .conv-preview`, "You: Just us now")+
		` && document.querySelector('#groups-list .group-item[data-id="`+groupID+`"] .conv-meta time') !== null`)
	bob.goTo("#/group/"+groupID, "group")
	carol.waitJS("Carol's thread loaded", containsText("#group-log .body", hello))
	for _, text := range []string{"Carol is out", "Just us now"} {
		if eval[bool](carol, containsText("#group-log", text)) {
			t.Errorf("Carol's browser shows %q, written after she was removed", text)
		}
	}
	// The invitation is also a line in Bob's conversation with Alice.
	bob.goTo("#/chat/"+alice.peerID(), "chat")
	bob.waitJS("the invitation in the thread", containsText("#thread-log .group-invite-line", "Alice invited you to the group “Supper club”"))

	id, err := carol.n.ResolveGroup(groupID)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := carol.n.GroupMessages(id, 1000, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Body == "Carol is out" || m.Body == "Just us now" {
			t.Errorf("Carol's node holds %q, written after she was removed", m.Body)
		}
	}
}

// waitGroupKey waits until each user's node holds the key of the group's
// newest epoch, as the group's owner (the first user) knows it.
func waitGroupKey(t *testing.T, ref string, users ...*user) {
	t.Helper()
	id, err := users[0].n.ResolveGroup(ref)
	if err != nil {
		t.Fatal(err)
	}
	g, err := users[0].n.Group(id)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		waitNode(t, u, fmt.Sprint("the key of epoch ", g.Epoch), func(n *node.Node) bool {
			h, err := n.Group(id)
			return err == nil && h.Epoch == g.Epoch && !h.KeyWaited
		})
	}
}

// waitNode polls a condition on u's node until it holds or waitLimit passes.
func waitNode(t *testing.T, u *user, what string, ok func(*node.Node) bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !ok(u.n) {
		if time.Now().After(deadline) {
			u.shot("timeout-" + u.name)
			t.Fatalf("%s: gave up after %v waiting for %s", u.name, waitLimit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
