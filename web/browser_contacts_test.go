package web_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/backchannel/backchannel/node"
)

// TestBrowserPendingContact: a stranger who wrote to Alice is listed among
// her contacts as "pending" until she accepts the request; then as an
// accepted contact she can message.
func TestBrowserPendingContact(t *testing.T) {
	browser := newBrowser(t)
	alice := newUser(t, browser, "Alice")
	bob := newUser(t, browser, "Bob")
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if _, err := bob.n.AddContact(ctx, alice.n.Self().Invite, "Alice"); err != nil {
		t.Fatal(err)
	}
	alice.goTo("#/identity", "identity")
	if _, err := bob.n.Send(ctx, alice.n.ID(), node.Outgoing{Kind: node.KindText, Body: "Hello, we met at the harbour"}); err != nil {
		t.Fatal(err)
	}
	bobItem := fmt.Sprintf(`document.querySelector('#contacts-list .contact[data-peer=%q]')`, bob.peerID())
	alice.waitJS("Bob pending, live", `(c => c && c.dataset.state === 'pending' && c.querySelector('.tag').textContent === 'pending')(`+bobItem+`)`)
	alice.waitJS("a way to answer, no way to message", `(c => c.querySelector('a[href="#/requests"]') && !c.querySelector('a[href^="#/chat/"]'))(`+bobItem+`)`)
	alice.shot("identity-pending")

	alice.goTo("#/requests", "requests")
	alice.click(`#requests-list .request[data-peer="` + bob.peerID() + `"] button.primary`)
	alice.waitJS("the thread with Bob", `location.hash === '#/chat/`+bob.peerID()+`'`)
	alice.goTo("#/identity", "identity")
	alice.waitJS("Bob accepted", `(c => c && c.dataset.state === 'accepted' && !c.querySelector('.tag') && c.querySelector('a[href^="#/chat/"]'))(`+bobItem+`)`)

	// Bob, who added Alice from her invite, never saw her as pending.
	bob.goTo("#/identity", "identity")
	bob.waitJS("Alice accepted on Bob's side", fmt.Sprintf(`(c => c && c.dataset.state === 'accepted' && !c.querySelector('.tag'))(document.querySelector('#contacts-list .contact[data-peer=%q]'))`, alice.peerID()))
}
