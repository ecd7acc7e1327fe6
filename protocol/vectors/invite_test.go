package vectors

import (
	"bytes"
	"encoding/base64"
	"net/url"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	"google.golang.org/protobuf/proto"

	mbcrypto "github.com/backchannel/backchannel/crypto/mailbox"
	"github.com/backchannel/backchannel/node/contacts"
	"github.com/backchannel/backchannel/node/mailbox/mailboxpb"
)

type inviteVector struct {
	About   string      `json:"about"`
	Invites []inviteVec `json:"invites"`
}

type inviteVec struct {
	Label        string   `json:"label"`
	Link         string   `json:"link"`
	Peer         string   `json:"peer"`
	Addrs        []string `json:"addrs,omitempty"`
	Name         string   `json:"name,omitempty"`
	Token        string   `json:"token,omitempty"`
	Mailboxes    string   `json:"mbox_bytes,omitempty"`
	MailboxList  *mboxVec `json:"mbox_list,omitempty"`
	QueryInOrder []string `json:"query_keys_in_order,omitempty"`
}

type mboxVec struct {
	Appointment string   `json:"appointment"`
	Addrs       []string `json:"addrs"`
	Capability  string   `json:"capability,omitempty"`
	Version     uint64   `json:"version"`
}

func buildInvite(t *testing.T) any {
	alice := fixedIdentity(t, "alice").Public().Key.PeerID()
	addrs := []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/4001"), ma.StringCast("/ip4/127.0.0.1/udp/4001/quic-v1")}
	app := vectorAppointment(t, "alice")
	appEnc, err := app.MarshalBinary()
	must(t, err)
	mbAddrs := []string{"/ip4/127.0.0.1/tcp/4100"}
	c := mbcrypto.MakeCapability(capabilityKey, labelSecret, peer.ID("invite-token:"+inviteToken))
	list, err := proto.Marshal(&mailboxpb.MailboxList{Entries: []*mailboxpb.MailboxList_Entry{{Appointment: appEnc, Addrs: mbAddrs}}, Capability: c[:], Version: 1})
	must(t, err)

	out := inviteVector{About: "Invite links and what they parse to. The link is \"backchannel://invite?\" and a URL query " +
		"(keys sorted, as Go's url.Values.Encode writes it; any order parses). See docs/PROTOCOL.md, Invites."}
	for _, in := range []struct {
		label string
		inv   contacts.Invite
	}{
		{"one-time invite with mailboxes", contacts.Invite{Peer: alice, Addrs: addrs, Name: "Alice & co", Token: inviteToken, Mailboxes: list}},
		{"plain invite", contacts.Invite{Peer: alice, Addrs: addrs[:1], Name: "Alice"}},
		{"bare peer ID", contacts.Invite{Peer: alice}},
	} {
		link := in.inv.String()
		if in.label == "bare peer ID" {
			link = alice.String()
		}
		got, err := contacts.ParseInvite(link)
		must(t, err)
		if got.Peer != in.inv.Peer || got.Name != in.inv.Name || got.Token != in.inv.Token || !bytes.Equal(got.Mailboxes, in.inv.Mailboxes) || len(got.Addrs) != len(in.inv.Addrs) {
			t.Errorf("%s: parses to %+v", in.label, got)
		}
		rec := inviteVec{Label: in.label, Link: link, Peer: got.Peer.String(), Name: got.Name, Token: got.Token}
		for _, a := range got.Addrs {
			rec.Addrs = append(rec.Addrs, a.String())
		}
		if len(got.Mailboxes) > 0 {
			rec.Mailboxes = hx(got.Mailboxes)
			rec.MailboxList = &mboxVec{Appointment: hx(appEnc), Addrs: mbAddrs, Capability: hx(c[:]), Version: 1}
			q, err := url.ParseQuery(link[len("backchannel://invite?"):])
			must(t, err)
			mb, err := base64.RawURLEncoding.DecodeString(q.Get("mbox"))
			must(t, err)
			same(t, "mbox", mb, list)
		}
		if in.label != "bare peer ID" {
			rec.QueryInOrder = queryKeys(link)
		}
		out.Invites = append(out.Invites, rec)
	}
	return out
}

// queryKeys lists the keys of a link's query in the order they appear.
func queryKeys(link string) []string {
	var keys []string
	q := link[len("backchannel://invite?"):]
	for _, kv := range bytes.Split([]byte(q), []byte("&")) {
		k, _, _ := bytes.Cut(kv, []byte("="))
		keys = append(keys, string(k))
	}
	return keys
}
