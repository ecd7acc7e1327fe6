package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/backchannel/backchannel/node"
	"github.com/backchannel/backchannel/storage"
)

// TestBrowserMailbox: Bob appoints a helper as his mailbox in the UI (a
// contact who does not hold mail for contacts refuses), then goes offline.
// Alice writes to him: her thread shows the message "In mailbox", and the
// helper's UI shows what it holds for Bob, counts only. Alice turns on
// holding mail for her contacts, and appoints and revokes a mailbox.
func TestBrowserMailbox(t *testing.T) {
	browser := newBrowser(t)
	helper := newUserWith(t, browser, "Helper", func(c *node.Config) { c.Helper = true })
	boot := helper.n.Addrs()[0].String() + "/p2p/" + helper.peerID()
	depositAtOnce := func(c *node.Config) { c.MailboxDepositAfter = -1 }
	alice := newUserWith(t, browser, "Alice", depositAtOnce, boot)
	bob := newUserWith(t, browser, "Bob", depositAtOnce, boot)

	// Alice and Bob are contacts with sessions: each has written to the
	// other.
	ctx := t.Context()
	if _, err := alice.n.AddContact(ctx, bob.n.Self().Invite, "Bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.n.AddContact(ctx, alice.n.Self().Invite, "Alice"); err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][2]*user{{alice, bob}, {bob, alice}} {
		from, to := pair[0], pair[1]
		m, err := from.n.Send(ctx, to.n.ID(), node.Outgoing{Kind: "text", Body: "hello " + to.name})
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, from.name+"'s greeting delivered", func() bool {
			ms, _ := from.n.Messages(to.n.ID(), 10, time.Time{})
			for _, x := range ms {
				if x.ID == m.ID {
					return !x.State.Before(storage.StateDelivered)
				}
			}
			return false
		})
	}

	// Bob asks Alice, who holds no one's mail, then the helper.
	bob.goTo("#/identity", "identity")
	bob.waitJS("no mailboxes yet", `!document.querySelector('#mailboxes-empty').hidden`)
	bob.typeIn("#f-appoint-mailbox-peer", "Alice")
	bob.click(".appoint-mailbox button[type=submit]")
	bob.waitJS("Alice's refusal", `document.querySelector('.appoint-mailbox .form-status.error')?.textContent.includes('will not hold your mail')`)
	eval[string](bob, `document.querySelector('#f-appoint-mailbox-peer').value = ''`)
	bob.typeIn("#f-appoint-mailbox-peer", helper.peerID())
	bob.typeIn("#f-appoint-mailbox-days", "30")
	bob.click(".appoint-mailbox button[type=submit]")
	row := fmt.Sprintf(`#mailboxes-list tr[data-peer="%s"]`, helper.peerID())
	bob.waitJS("the helper among Bob's mailboxes", `document.querySelector('`+row+`') !== null`)
	bob.waitJS("the appointment said", containsText(".appoint-mailbox .form-status", "Appointed"))
	eval[bool](bob, `(document.querySelector('#mailboxes').scrollIntoView(), true)`)
	bob.shot("mailboxes")
	ms, err := bob.n.Mailboxes()
	if err != nil || len(ms) != 1 || ms[0].Mailbox != helper.n.ID() {
		t.Fatalf("Bob's mailboxes: %+v, %v", ms, err)
	}
	if left := time.Until(ms[0].Expires); left < 29*24*time.Hour || left > 31*24*time.Hour {
		t.Errorf("Bob's mailbox expires in %v, want 30 days", left)
	}

	// Alice learns of Bob's mailbox; Bob goes offline.
	waitFor(t, "Alice knows Bob's mailbox", func() bool {
		ks, err := alice.n.MailboxesOf(bob.n.ID())
		return err == nil && len(ks) == 1 && ks[0].Mailbox == helper.n.ID() && ks[0].Capability
	})
	bob.do("leave the UI", chromedp.Navigate("about:blank"))
	if err := bob.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := bob.n.Close(); err != nil {
		t.Fatal(err)
	}

	// Alice writes: the message lands in Bob's mailbox, and says so.
	alice.goTo("#/chat/"+bob.peerID(), "chat")
	alice.typeIn("#composer", "Are you there, Bob?")
	alice.click("#composer-form button[type=submit]")
	alice.waitJS("the message in Bob's mailbox", `document.querySelector('#thread-log .msg.outbound[data-state="in_mailbox"]') !== null`)
	label := eval[string](alice, `document.querySelector('#thread-log .msg.outbound[data-state="in_mailbox"] .state').textContent`)
	title := eval[string](alice, `document.querySelector('#thread-log .msg.outbound[data-state="in_mailbox"] .state').title`)
	if label != "✉ In mailbox" || title != "Held by the recipient's mailbox until they come online" {
		t.Errorf("the state shows %q titled %q", label, title)
	}
	alice.shot("thread-in-mailbox")
	alice.goTo("#/inbox", "inbox")
	alice.waitJS("the inbox says so too", containsText("#inbox-list .state-in_mailbox", "In mailbox"))

	// The helper's UI: what it holds for Bob, counts only.
	helper.goTo("#/identity", "identity")
	held := fmt.Sprintf(`#mailbox-held tr[data-peer="%s"]`, bob.peerID())
	helper.waitJS("what the helper holds for Bob", `Number(document.querySelector('`+held+` td.num')?.textContent) >= 1`)
	helper.waitJS("the helper note", `!document.querySelector('#mailbox-helper-note').hidden`)
	if txt := eval[string](helper, `document.querySelector('#mailbox-held-section').textContent`); strings.Contains(txt, "Are you there") {
		t.Errorf("the helper's UI shows the text: %q", txt)
	}
	eval[bool](helper, `(document.querySelector('#mailbox-held-section').scrollIntoView(), true)`)
	helper.shot("mailbox-held")

	// Alice holds mail for her contacts; she appoints the helper and
	// revokes it.
	alice.goTo("#/identity", "identity")
	alice.waitJS("the serve checkbox read", `document.querySelector('#mailbox-serve-contacts') && !document.querySelector('#mailbox-serve-contacts').checked`)
	alice.click("#mailbox-serve-contacts")
	alice.waitJS("holding contacts' mail", containsText("#mailbox-serve-status", "Holding mail for your contacts"))
	if _, contacts, err := alice.n.MailboxServing(); err != nil || !contacts {
		t.Errorf("Alice serves contacts: %v, %v", contacts, err)
	}
	alice.typeIn("#f-appoint-mailbox-peer", helper.peerID())
	alice.click(".appoint-mailbox button[type=submit]")
	alice.waitJS("the helper among Alice's mailboxes", `document.querySelector('`+row+`') !== null`)
	alice.click(row + " button.danger")
	alice.waitJS("the mailbox revoked", `document.querySelector('`+row+`') === null && !document.querySelector('#mailboxes-empty').hidden`)
	if ms, err := alice.n.Mailboxes(); err != nil || len(ms) != 0 {
		t.Errorf("Alice's mailboxes after revoking: %+v, %v", ms, err)
	}
}

// waitFor polls cond until it holds, or fails the test after waitLimit.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v waiting for %s", waitLimit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
