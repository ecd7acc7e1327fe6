package client_test

import (
	"errors"
	"testing"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/api/apitest"
	"github.com/backchannel/backchannel/api/client"
)

// TestMailboxes calls every mailbox method of the client once, and checks
// that a refusal comes back with its code.
func TestMailboxes(t *testing.T) {
	s := apitest.StartServer(t)
	bob, helper, refuser := apitest.PeerID(1), apitest.PeerID(9), apitest.PeerID(10)
	if _, err := s.Fake.AddContact(t.Context(), bob.String(), "bob"); err != nil {
		t.Fatal(err)
	}
	s.Fake.SetMailboxesOf(bob, []api.KnownMailbox{{PeerID: helper.String(), Capability: true}})
	s.Fake.SetMailboxHeld(true, []api.MailboxHeld{{Recipient: bob.String(), Items: 2, Bytes: 100}})
	s.Fake.RefuseMailbox(refuser, "full")
	c, err := client.FromHome(s.Home)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	m, err := c.AppointMailbox(ctx, helper.String(), 10)
	if err != nil || m.PeerID != helper.String() || m.Expires.Sub(*m.Issued).Hours() != 240 {
		t.Fatalf("AppointMailbox: %+v, %v", m, err)
	}
	if _, err := c.AppointMailbox(ctx, "bob", 0); err != nil {
		t.Fatal(err)
	}
	var ae *client.Error
	if _, err := c.AppointMailbox(ctx, refuser.String(), 0); !errors.As(err, &ae) || ae.Code != api.CodeMailboxRefused || ae.Status != 409 {
		t.Errorf("AppointMailbox of a refuser: %v", err)
	}
	if err := c.DrainMailboxes(ctx); err != nil {
		t.Error(err)
	}
	if err := c.RevokeMailbox(ctx, "bob"); err != nil {
		t.Error(err)
	}
	if err := c.RevokeMailbox(ctx, "bob"); !errors.As(err, &ae) || ae.Code != api.CodeNotFound {
		t.Errorf("RevokeMailbox twice: %v", err)
	}
	if ms, err := c.Mailboxes(ctx); err != nil || len(ms) != 1 || ms[0].PeerID != helper.String() || ms[0].LastDrain == nil {
		t.Errorf("Mailboxes: %+v, %v", ms, err)
	}
	if ks, err := c.MailboxesOf(ctx, "bob"); err != nil || ks.PeerID != bob.String() || len(ks.Mailboxes) != 1 || !ks.Mailboxes[0].Capability {
		t.Errorf("MailboxesOf: %+v, %v", ks, err)
	}
	if hs, err := c.MailboxHeld(ctx); err != nil || len(hs) != 1 || hs[0].Items != 2 {
		t.Errorf("MailboxHeld: %+v, %v", hs, err)
	}
	if sv, err := c.SetMailboxServeContacts(ctx, true); err != nil || sv != (api.MailboxServing{Helper: true, Contacts: true}) {
		t.Errorf("SetMailboxServeContacts: %+v, %v", sv, err)
	}
	if sv, err := c.MailboxServing(ctx); err != nil || !sv.Contacts {
		t.Errorf("MailboxServing: %+v, %v", sv, err)
	}
}
