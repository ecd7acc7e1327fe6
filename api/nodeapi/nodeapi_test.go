package nodeapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/api/apitest"
	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/safename"
	"github.com/backchannel/backchannel/node"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/rooms/roomstate"
	"github.com/backchannel/backchannel/storage"
)

// TestAPIError checks the api sentinel given to the node's errors: a room
// error wraps a roomstate reason inside node.ErrInvalidRoom, and the
// reason decides. The message stays the node's.
func TestAPIError(t *testing.T) {
	tests := []struct {
		err  error
		want error
	}{
		{fmt.Errorf("%w: %w", node.ErrInvalidRoom, roomstate.ErrNotAllowed), api.ErrNotAllowed},
		{fmt.Errorf("%w: %w", node.ErrInvalidRoom, roomstate.ErrMuted), api.ErrMuted},
		{fmt.Errorf("%w: %w", node.ErrInvalidRoom, roomstate.ErrBadBody), api.ErrInvalidRoom},
		{fmt.Errorf("%w: 2 rooms are named x", node.ErrInvalidRoom), api.ErrInvalidRoom},
		{fmt.Errorf("%w: not in room x", node.ErrNotFound), api.ErrNotFound},
		{fmt.Errorf("%w: text", node.ErrTooLarge), api.ErrTooLarge},
		{fmt.Errorf("%w: no contact named x", node.ErrUnknownPeer), api.ErrUnknownPeer},
		{node.ErrSelf, api.ErrInvalid},
		{fmt.Errorf("send: %w", node.ErrClosed), api.ErrUnavailable},
		{fmt.Errorf("x: %w", storage.ErrAmbiguous), api.ErrAmbiguous},
		{fmt.Errorf("x: %w", storage.ErrInvalid), api.ErrInvalid},
		{fmt.Errorf("deposit: %w: quota reached", node.ErrMailboxRefused), api.ErrMailboxRefused},
		{fmt.Errorf("send: %w", node.ErrNoMailbox), api.ErrNoMailbox},
		// Refusals in the user's words: 400, 403, the sentence kept.
		{errs.Say(node.ErrInvalidInput, errors.New("a message cannot be empty or only spaces"), nil), api.ErrInvalid},
		{errs.Say(node.ErrInvalidRoom, errors.New("a reaction is one emoji"), nil), api.ErrInvalidRoom},
		{errs.Say(node.ErrInvalidGroup, errors.New("the event's time has passed"), nil), api.ErrInvalidGroup},
		{errs.Say(roomstate.ErrNotAllowed, errors.New("only the room's host can make speakers"), fmt.Errorf("%w: not the host", node.ErrInvalidRoom)), api.ErrNotAllowed},
		{errs.Say(node.ErrInvalidInvite, errors.New("this invite link is incomplete: copy the whole link"), errors.New("digest too long")), api.ErrInvalidInvite},
		{fmt.Errorf("name: %w: control character U+001B", safename.ErrInvalid), api.ErrInvalid},
		{fmt.Errorf("%w: %w", node.ErrInvalidInvite, safename.ErrInvalid), api.ErrInvalidInvite},
	}
	for _, tt := range tests {
		got := apiError(tt.err)
		if !errors.Is(got, tt.want) || !errors.Is(got, tt.err) || got.Error() != tt.err.Error() {
			t.Errorf("apiError(%v) = %v, want it to wrap %v", tt.err, got, tt.want)
		}
	}
	if err := errors.New("disk on fire"); apiError(err) != err {
		t.Error("an unknown error changed")
	}
	if apiError(nil) != nil {
		t.Error("nil became an error")
	}
}

// TestEventJSON checks the conversion of the node's events: a contact
// event with its contact, a message event with its message.
func TestEventJSON(t *testing.T) {
	bob := apitest.PeerID(1)
	at := time.Date(2026, 1, 2, 3, 5, 0, 0, time.FixedZone("x", 3600))
	ct := storage.Contact{Peer: bob, State: storage.ContactAccepted, Name: "bob", ProfileName: "Bob", Created: at}
	got, err := json.Marshal(eventJSON(node.Event{Type: "contact", Peer: bob, Contact: &ct, Time: at}))
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`{"type":"contact","peer_id":%q,"contact":{"peer_id":%q,"state":"accepted","name":"bob",`+
		`"profile_name":"Bob","addrs":[],"verified":false,"created":"2026-01-02T02:05:00Z"},"time":"2026-01-02T02:05:00Z"}`, bob, bob)
	if string(got) != want {
		t.Errorf("contact event\n got %s\nwant %s", got, want)
	}

	m := storage.Message{ID: storage.MessageID{15: 1}, Peer: bob, Direction: storage.Inbound, Kind: "text", Body: "hi",
		Sent: at, State: storage.StateReceived}
	got, err = json.Marshal(eventJSON(node.Event{Type: "message", Peer: bob, Message: &m, Typing: false}))
	if err != nil {
		t.Fatal(err)
	}
	want = fmt.Sprintf(`{"type":"message","peer_id":%q,"message":{"id":"00000000000000000000000000000001","peer_id":%q,`+
		`"direction":"inbound","kind":"text","text":"hi","sent":"2026-01-02T02:05:00Z","state":"received"}}`, bob, bob)
	if string(got) != want {
		t.Errorf("message event\n got %s\nwant %s", got, want)
	}
}

// TestMailboxJSON checks the conversion of the node's mailbox types, and
// that a message in a mailbox reads "in_mailbox".
func TestMailboxJSON(t *testing.T) {
	bob, helper := apitest.PeerID(1), apitest.PeerID(9)
	at := time.Date(2026, 1, 2, 3, 5, 0, 0, time.FixedZone("x", 3600))
	tests := []struct {
		v    any
		want string
	}{
		{mailboxJSON(node.Mailbox{Mailbox: helper, Issued: at, Expires: at.Add(time.Hour), DrainErr: "mailbox refused: quota"}),
			fmt.Sprintf(`{"peer_id":%q,"issued":"2026-01-02T02:05:00Z","expires":"2026-01-02T03:05:00Z","drain_error":"mailbox refused: quota"}`, helper)},
		{knownMailboxJSON(node.KnownMailbox{Mailbox: helper, Expires: at, Capability: true}),
			fmt.Sprintf(`{"peer_id":%q,"expires":"2026-01-02T02:05:00Z","capability":true}`, helper)},
		{mailboxHeldJSON(node.MailboxHeld{Recipient: bob, Items: 3, StrangerItems: 1, Bytes: 4096, Appointed: at}),
			fmt.Sprintf(`{"recipient":%q,"items":3,"stranger_items":1,"bytes":4096,"appointed":"2026-01-02T02:05:00Z"}`, bob)},
		{messageJSON(storage.Message{ID: storage.MessageID{15: 2}, Peer: bob, Direction: storage.Outbound, Kind: "text", Body: "hi",
			State: storage.StateInMailbox}),
			fmt.Sprintf(`{"id":"00000000000000000000000000000002","peer_id":%q,"direction":"outbound","kind":"text","text":"hi","state":"in_mailbox"}`, bob)},
	}
	for _, tt := range tests {
		got, err := json.Marshal(tt.v)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tt.want {
			t.Errorf("\n got %s\nwant %s", got, tt.want)
		}
	}
}

// TestGroupMemberJSON checks the conversion of a group member as the node
// shows it, and of a line's author.
func TestGroupMemberJSON(t *testing.T) {
	carol := apitest.PeerID(3)
	m := node.GroupMember{Peer: carol, Role: group.RoleAdmin, Name: "Carol", Display: "Carol (…" + carol.String()[len(carol.String())-8:] + ")"}
	got, err := json.Marshal(memberJSON(m))
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`{"peer_id":%q,"role":"admin","name":"Carol","display":%q,"contact":false,"verified":false,"me":false}`, carol, m.Display)
	if string(got) != want {
		t.Errorf("member\n got %s\nwant %s", got, want)
	}
	line := groupMessageJSON(node.GroupMessage{GroupMessage: storage.GroupMessage{Sender: carol, Kind: "text", Body: "hi"}, From: m})
	if line.SenderID != carol.String() || line.Sender != memberJSON(m) {
		t.Errorf("line %+v, want from %+v", line, memberJSON(m))
	}
}
