package vectors

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	mbcrypto "github.com/backchannel/backchannel/crypto/mailbox"
	"github.com/backchannel/backchannel/node/mailbox/mailboxpb"
)

type mailboxVector struct {
	About       string         `json:"about"`
	Appointment appointmentVec `json:"appointment"`
	Capability  []capVec       `json:"capabilities"`
	Batch       batchVec       `json:"sealed_batch"`
	Deposit     string         `json:"deposit_request_encoding"`
}

type appointmentVec struct {
	Recipient     keyRef `json:"recipient"`
	Mailbox       keyRef `json:"mailbox"`
	MailboxPeerID string `json:"mailbox_peer_id"`
	Issued        string `json:"issued"`
	IssuedUnix    int64  `json:"issued_unix"`
	Expires       string `json:"expires"`
	ExpiresUnix   int64  `json:"expires_unix"`
	Domain        string `json:"domain"`
	SignedBytes   string `json:"signed_bytes"`
	SigningInput  string `json:"signing_input"`
	Signature     string `json:"signature"`
	Encoding      string `json:"encoding"`
}

type capVec struct {
	Depositor      string `json:"depositor"`
	DepositorBytes string `json:"depositor_bytes"`
	CapabilityKey  string `json:"capability_key"`
	LabelSecret    string `json:"label_secret"`
	LabelInput     string `json:"label_hmac_input"`
	Label          string `json:"label"`
	MACInput       string `json:"mac_hmac_input"`
	MAC            string `json:"mac"`
	Capability     string `json:"capability"`
}

type batchVec struct {
	Recipient          keyRef    `json:"recipient"`
	RecipientX25519    string    `json:"recipient_x25519_public"`
	RecipientPeerID    string    `json:"recipient_peer_id_bytes"`
	Sender             keyRef    `json:"sender"`
	SenderPeerID       string    `json:"sender_peer_id_bytes"`
	RandomSeed         uint64    `json:"random_seed"`
	EphemeralPrivate   string    `json:"ephemeral_private"`
	EphemeralPublic    string    `json:"ephemeral_public"`
	SharedSecret       string    `json:"shared_secret"`
	BatchKeySalt       string    `json:"batch_key_salt"`
	BatchKey           string    `json:"batch_key"`
	Items              []itemVec `json:"items"`
	AnotherRecipientID string    `json:"note"`
}

type itemVec struct {
	Index          uint32 `json:"index"`
	Frame          string `json:"frame"`
	ItemKeyInfo    string `json:"item_key_info"`
	ItemKey        string `json:"item_key"`
	AEADKey        string `json:"aead_key"`
	AEADNonce      string `json:"aead_nonce"`
	Header         string `json:"header"`
	AssociatedData string `json:"associated_data"`
	Plaintext      string `json:"padded_plaintext"`
	Sealed         string `json:"sealed"`
}

var (
	capabilityKey = mbcrypto.CapabilityKey(label32("backchannel test vector capability key"))
	labelSecret   = mbcrypto.LabelSecret(label32("backchannel test vector label secret"))
	inviteToken   = "00112233445566778899aabbccddeeff"
)

// vectorAppointment is the recipient's (name's) appointment of the
// vectors' mailbox peer, from t0 for 90 days.
func vectorAppointment(t *testing.T, name string) mbcrypto.Appointment {
	a, err := mbcrypto.NewAppointment(fixedIdentity(t, name).Signing(), fixedIdentity(t, "mailbox").Public().Key.PeerID(), t0, t0.Add(90*24*time.Hour))
	must(t, err)
	return a
}

func buildMailbox(t *testing.T) any {
	bob, alice := fixedIdentity(t, "bob"), fixedIdentity(t, "alice")
	bk := bob.Public().Key
	mb := fixedIdentity(t, "mailbox").Public().Key.PeerID()
	a := vectorAppointment(t, "bob")
	signed := cat(cstr("mailbox/appointment/v1"), bk[:], cbytes([]byte(mb)), i64(a.Issued.Unix()), i64(a.Expires.Unix()))
	checkSigned(t, "appointment", bob.Signing(), "mailbox/appointment/v1", signed, a.Signature)
	enc, err := a.MarshalBinary()
	must(t, err)
	same(t, "appointment encoding", enc, cat([]byte{1}, bk[:], []byte{byte(len(mb))}, []byte(mb), u64(uint64(a.Issued.Unix())), u64(uint64(a.Expires.Unix())), a.Signature))
	back, err := mbcrypto.UnmarshalAppointment(enc)
	must(t, err)
	must(t, back.Verify(t0))
	out := mailboxVector{
		About: "A recipient's appointment of a mailbox, depositors' capabilities, and a batch of two frames sealed to the recipient. " +
			"See docs/PROTOCOL.md, Mailboxes.",
		Appointment: appointmentVec{Recipient: refOf(t, "bob"), Mailbox: refOf(t, "mailbox"), MailboxPeerID: mb.String(),
			Issued: rfc(a.Issued), IssuedUnix: a.Issued.Unix(), Expires: rfc(a.Expires), ExpiresUnix: a.Expires.Unix(),
			Domain: "mailbox/appointment/v1", SignedBytes: hx(signed), SigningInput: hx(signingInput("mailbox/appointment/v1", signed)),
			Signature: hx(a.Signature), Encoding: hx(enc)},
	}

	// Capabilities: a contact's, and the one a one-time invite carries.
	for _, dep := range []peer.ID{alice.Public().Key.PeerID(), peer.ID("invite-token:" + inviteToken)} {
		c := mbcrypto.MakeCapability(capabilityKey, labelSecret, dep)
		li := cat(cstr("backchannel mailbox depositor label v1"), cbytes([]byte(dep)))
		h := hmac.New(sha256.New, labelSecret[:])
		h.Write(li)
		label := h.Sum(nil)[:8]
		mi := cat(cstr("backchannel mailbox capability v1"), label)
		h = hmac.New(sha256.New, capabilityKey[:])
		h.Write(mi)
		mac := h.Sum(nil)[:16]
		same(t, "capability", c[:], cat(label, mac))
		if !capabilityKey.Check(c) {
			t.Errorf("capability does not check")
		}
		name := dep.String()
		if bytes.HasPrefix([]byte(dep), []byte("invite-token:")) {
			name = string(dep) + " (a one-time invite's token stands for its taker)"
		}
		out.Capability = append(out.Capability, capVec{Depositor: name, DepositorBytes: hx([]byte(dep)), CapabilityKey: hx(capabilityKey[:]),
			LabelSecret: hx(labelSecret[:]), LabelInput: hx(li), Label: hx(label), MACInput: hx(mi), MAC: hx(mac), Capability: hx(c[:])})
	}

	// A sealed batch of two frames from alice to bob.
	to := bob.Public().DH
	toID, from := bk.PeerID(), alice.Public().Key.PeerID()
	frames := [][]byte{
		[]byte("a DM frame (a dmpb.Frame encoding) goes here"),
		bytes.Repeat([]byte("0123456789"), 30),
	}
	const seed = 0x6d61696c626f78 // "mailbox"
	fixRandom(t, seed)
	sealed, err := mbcrypto.SealBatch(to, toID, from, frames)
	must(t, err)
	eph := randomStream(seed, 32)
	epk := x25519Public(t, eph)
	shared := x25519(t, eph, to[:])
	salt := cat(epk, to[:])
	base := hkdfKey(t, shared, salt, "backchannel mailbox batch key v1", 32)
	out.Batch = batchVec{Recipient: refOf(t, "bob"), RecipientX25519: hx(to[:]), RecipientPeerID: hx([]byte(toID)),
		Sender: refOf(t, "alice"), SenderPeerID: hx([]byte(from)), RandomSeed: seed, EphemeralPrivate: hx(eph), EphemeralPublic: hx(epk),
		SharedSecret: hx(shared), BatchKeySalt: hx(salt), BatchKey: hx(base),
		AnotherRecipientID: "the items open only for the recipient's X25519 key and peer ID (the associated data binds it)"}
	opener := mbcrypto.NewOpener(bob.DH(), toID)
	for i, f := range frames {
		header := cat([]byte{1}, epk, binary.BigEndian.AppendUint32(nil, uint32(i)))
		info := cat(cstr("backchannel mailbox item key v1"), u64(uint64(i)))
		ik := hkdfKey(t, base, nil, string(info), 32)
		key, nonce := aeadOf(t, ik, "backchannel mailbox item v1")
		ad := cat(cstr("backchannel mailbox item ad v1"), u64(1), header, cbytes([]byte(toID)))
		plain := cat([]byte{byte(len(from))}, []byte(from), binary.BigEndian.AppendUint32(nil, uint32(len(f))), f)
		plain = append(plain, make([]byte, (len(plain)+255)/256*256-len(plain))...)
		same(t, "sealed item", sealed[i], cat(header, xseal(t, key, nonce, plain, ad)))
		gotFrom, gotFrame, err := opener.Open(sealed[i])
		must(t, err)
		if gotFrom != from || !bytes.Equal(gotFrame, f) {
			t.Errorf("item %d opens to %s %q", i, gotFrom, gotFrame)
		}
		out.Batch.Items = append(out.Batch.Items, itemVec{Index: uint32(i), Frame: hx(f), ItemKeyInfo: hx(info), ItemKey: hx(ik),
			AEADKey: hx(key), AEADNonce: hx(nonce), Header: hx(header), AssociatedData: hx(ad), Plaintext: hx(plain), Sealed: hx(sealed[i])})
	}
	if _, _, err := mbcrypto.NewOpener(alice.DH(), from).Open(sealed[0]); err == nil {
		t.Errorf("an item opened for another recipient")
	}
	c := mbcrypto.MakeCapability(capabilityKey, labelSecret, from)
	req := &mailboxpb.Request{Body: &mailboxpb.Request_Deposit{Deposit: &mailboxpb.Deposit{
		Recipient: []byte(toID), Capability: c[:], Items: []*mailboxpb.Item{{Sealed: sealed[0]}, {Sealed: sealed[1]}}}}}
	dep, err := proto.Marshal(req)
	must(t, err)
	out.Deposit = hx(dep)
	return out
}
