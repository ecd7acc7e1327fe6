package vectors

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/identity"
	"github.com/backchannel/backchannel/crypto/ratchet"
	"github.com/backchannel/backchannel/crypto/x3dh"
	"github.com/backchannel/backchannel/node/dm/dmpb"
)

type sessionVector struct {
	About     string         `json:"about"`
	Responder responderVec   `json:"responder"`
	Initiator initiatorVec   `json:"initiator"`
	X3DH      x3dhVec        `json:"x3dh"`
	Steps     []ratchetStep  `json:"root_chain"`
	Messages  []ratchetMsg   `json:"messages"`
	Acks      []ackVec       `json:"acks"`
	Random    []randomDrawnV `json:"random"`
}

type responderVec struct {
	Identity        keyRef         `json:"identity"`
	SignedPreKey    signedPreKeyV  `json:"signed_prekey"`
	OneTimePreKey   oneTimePreKeyV `json:"one_time_prekey"`
	StampDifficulty uint8          `json:"stamp_difficulty"`
	BundleDomain    string         `json:"bundle_domain"`
	BundleSigned    string         `json:"bundle_signed_bytes"`
	BundleInput     string         `json:"bundle_signing_input"`
	BundleSignature string         `json:"bundle_signature"`
	Bundle          string         `json:"bundle_encoding"`
	PreKeyRequest   string         `json:"prekey_request_frame"`
	PreKeyResponse  string         `json:"prekey_response_encoding"`
}

type signedPreKeyV struct {
	ID           uint32 `json:"id"`
	Private      string `json:"private"`
	Public       string `json:"public"`
	Expires      string `json:"expires"`
	ExpiresUnix  int64  `json:"expires_unix"`
	Domain       string `json:"domain"`
	SignedBytes  string `json:"signed_bytes"`
	SigningInput string `json:"signing_input"`
	Signature    string `json:"signature"`
}

type oneTimePreKeyV struct {
	ID      uint32 `json:"id"`
	Private string `json:"private"`
	Public  string `json:"public"`
}

type initiatorVec struct {
	Identity         keyRef `json:"identity"`
	Now              string `json:"now"`
	EphemeralPrivate string `json:"ephemeral_private"`
	EphemeralPublic  string `json:"ephemeral_public"`
	RatchetPrivate   string `json:"first_ratchet_private"`
	RatchetPublic    string `json:"first_ratchet_public"`
}

type x3dhVec struct {
	DH1             string `json:"dh1"`
	DH2             string `json:"dh2"`
	DH3             string `json:"dh3"`
	DH4             string `json:"dh4"`
	IKM             string `json:"ikm"`
	Salt            string `json:"salt"`
	Info            string `json:"info"`
	SharedSecret    string `json:"shared_secret"`
	ADDomain        string `json:"ad_domain"`
	AssociatedData  string `json:"associated_data"`
	HeaderEncoding  string `json:"header_encoding"`
	HeaderCanonical string `json:"header_canonical"`
}

type ratchetStep struct {
	Label     string `json:"label"`
	DHPrivate string `json:"dh_private_of"`
	DHPublic  string `json:"dh_public_of"`
	DHOutput  string `json:"dh_output"`
	RootIn    string `json:"root_key_in"`
	RootOut   string `json:"root_key_out"`
	ChainKey  string `json:"chain_key"`
}

type ratchetMsg struct {
	Label          string     `json:"label"`
	From           string     `json:"from"`
	Content        contentVec `json:"content"`
	Plaintext      string     `json:"plaintext"`
	HeaderDH       string     `json:"header_dh"`
	HeaderPN       uint32     `json:"header_pn"`
	HeaderN        uint32     `json:"header_n"`
	Header         string     `json:"header"`
	CarriesX3DH    bool       `json:"carries_x3dh_header"`
	ChainKey       string     `json:"chain_key"`
	MessageKey     string     `json:"message_key"`
	AEADKey        string     `json:"aead_key"`
	AEADNonce      string     `json:"aead_nonce"`
	AssociatedData string     `json:"associated_data"`
	Ciphertext     string     `json:"ciphertext"`
	RatchetMessage string     `json:"ratchet_message_encoding"`
	InviteToken    string     `json:"invite_token,omitempty"`
	Envelope       string     `json:"dm_envelope_encoding"`
	Frame          string     `json:"dm_frame_encoding"`
	Framed         string     `json:"dm_frame_on_the_stream"`
}

type contentVec struct {
	ID           string `json:"id"`
	SentUnixNano int64  `json:"sent_unix_nano"`
	Text         string `json:"text"`
}

type ackVec struct {
	Of     string `json:"of"`
	Frame  string `json:"frame_encoding"`
	Framed string `json:"frame_on_the_stream"`
}

type randomDrawnV struct {
	Seed  uint64 `json:"seed"`
	Step  string `json:"step"`
	Bytes string `json:"bytes"`
}

// Random seeds of the session's draws.
const (
	seedSignedPreKey  = 0x73706b     // "spk"
	seedOneTimePreKey = 0x6f706b     // "opk"
	seedInitiator     = 0x616c696365 // "alice"
	seedResponder     = 0x626f62     // "bob"
	seedInitiator2    = 0x616c69636532
)

func buildSession(t *testing.T) any {
	alice, bob := fixedIdentity(t, "alice"), fixedIdentity(t, "bob")
	ak, bk := alice.Public(), bob.Public()
	out := sessionVector{About: "A 1:1 session: bob's prekey bundle, alice's X3DH agreement, her first two messages (with the X3DH header), " +
		"bob's reply and alice's next message after the DH ratchet, with every key of the root and message chains. " +
		"The private keys the code draws at random are listed under random (cryptotest.SetGlobalRandom seeds); " +
		"another implementation takes them as inputs. See docs/PROTOCOL.md, 1:1 sessions."}

	// Bob's prekeys and bundle.
	expires := t0.Add(21 * 24 * time.Hour)
	fixRandom(t, seedSignedPreKey)
	spk := bob.NewSignedPreKey(7, expires)
	same(t, "signed prekey private key", spk.Private.Bytes(), randomStream(seedSignedPreKey, 32))
	fixRandom(t, seedOneTimePreKey)
	opk := identity.NewOneTimePreKey(42)
	same(t, "one-time prekey private key", opk.Private.Bytes(), randomStream(seedOneTimePreKey, 32))
	spkSigned := cat(bk.Key[:], u64(7), spk.Public[:], i64(expires.Unix()))
	checkSigned(t, "signed prekey", bob.Signing(), "identity/signed-prekey/v1", spkSigned, spk.Signature)
	bundle := bob.NewBundle(spk.SignedPreKey, &opk.OneTimePreKey, 11)
	bSigned := cat(bk.Key[:], bk.DH[:], u64(7), spk.Public[:], i64(expires.Unix()), u64(1), u64(42), opk.Public[:], u64(11))
	checkSigned(t, "bundle", bob.Signing(), "identity/bundle/v1", bSigned, bundle.Signature)
	bEnc, err := bundle.MarshalBinary()
	must(t, err)
	bBack, err := identity.UnmarshalBundle(bEnc)
	must(t, err)
	must(t, bBack.Verify(t0))
	req, err := proto.Marshal(&dmpb.PreKeyRequest{})
	must(t, err)
	resp, err := proto.Marshal(&dmpb.PreKeyResponse{Bundle: bEnc})
	must(t, err)
	out.Responder = responderVec{Identity: refOf(t, "bob"),
		SignedPreKey: signedPreKeyV{ID: 7, Private: hx(spk.Private.Bytes()), Public: hx(spk.Public[:]), Expires: rfc(expires), ExpiresUnix: expires.Unix(),
			Domain: "identity/signed-prekey/v1", SignedBytes: hx(spkSigned), SigningInput: hx(signingInput("identity/signed-prekey/v1", spkSigned)),
			Signature: hx(spk.Signature)},
		OneTimePreKey:   oneTimePreKeyV{ID: 42, Private: hx(opk.Private.Bytes()), Public: hx(opk.Public[:])},
		StampDifficulty: 11, BundleDomain: "identity/bundle/v1", BundleSigned: hx(bSigned),
		BundleInput: hx(signingInput("identity/bundle/v1", bSigned)), BundleSignature: hx(bundle.Signature), Bundle: hx(bEnc),
		PreKeyRequest: hx(binary.AppendUvarint(nil, uint64(len(req)))), PreKeyResponse: hx(resp)}
	out.Random = append(out.Random,
		randomDrawnV{seedSignedPreKey, "bob's signed prekey (identity.NewSignedPreKey)", hx(randomStream(seedSignedPreKey, 32))},
		randomDrawnV{seedOneTimePreKey, "bob's one-time prekey (identity.NewOneTimePreKey)", hx(randomStream(seedOneTimePreKey, 32))})

	// Alice starts the session.
	fixRandom(t, seedInitiator)
	as, err := ratchet.Initiate(alice, bBack, t0)
	must(t, err)
	drawn := randomStream(seedInitiator, 64)
	ek, ar := drawn[:32], drawn[32:]
	out.Random = append(out.Random, randomDrawnV{seedInitiator, "alice's X3DH ephemeral key, then her first ratchet key (ratchet.Initiate)", hx(drawn)})
	dh1 := x25519(t, alice.DH().Bytes(), spk.Public[:])
	dh2 := x25519(t, ek, bk.DH[:])
	dh3 := x25519(t, ek, spk.Public[:])
	dh4 := x25519(t, ek, opk.Public[:])
	ikm := cat(bytes.Repeat([]byte{0xff}, 32), dh1, dh2, dh3, dh4)
	sk := hkdfKey(t, ikm, make([]byte, 32), "backchannel/x3dh/v1", 32)
	x3dhAD := cat(cstr("backchannel/x3dh/ad/v1"), ak.Key[:], ak.DH[:], bk.Key[:], bk.DH[:])
	out.Initiator = initiatorVec{Identity: refOf(t, "alice"), Now: rfc(t0), EphemeralPrivate: hx(ek), EphemeralPublic: hx(x25519Public(t, ek)),
		RatchetPrivate: hx(ar), RatchetPublic: hx(x25519Public(t, ar))}

	root := func(label, privOf, pubOf string, dh, rk []byte) (rootOut, ck []byte) {
		o := hkdfKey(t, dh, rk, "backchannel/ratchet/root/v1", 64)
		out.Steps = append(out.Steps, ratchetStep{Label: label, DHPrivate: privOf, DHPublic: pubOf, DHOutput: hx(dh), RootIn: hx(rk), RootOut: hx(o[:32]), ChainKey: hx(o[32:])})
		return o[:32], o[32:]
	}
	rk1, aliceSend := root("alice's first sending chain = bob's first receiving chain", "alice's first ratchet key", "bob's signed prekey",
		x25519(t, ar, spk.Public[:]), sk)

	// message seals m with session s and checks it against the documented
	// computation from chain key ck; it returns the next chain key.
	var xh *x3dh.Header
	message := func(label, from string, s *ratchet.Session, ck []byte, c *dmpb.Content, token []byte) (ratchet.Message, []byte, []byte) {
		pt, err := proto.Marshal(c)
		must(t, err)
		m, err := s.Encrypt(pt)
		must(t, err)
		header, err := m.Header.MarshalBinary()
		must(t, err)
		same(t, label+" header", header, cat([]byte{1}, m.Header.DH[:], binary.BigEndian.AppendUint32(nil, m.Header.PN), binary.BigEndian.AppendUint32(nil, m.Header.N)))
		next, mk := chainStep(ck)
		key, nonce := aeadOf(t, mk, "backchannel/ratchet/message/v1")
		ad := cat(x3dhAD, header, []byte{0})
		if m.X3DH != nil {
			xh = m.X3DH
			ad = cat(x3dhAD, header, []byte{1}, m.X3DH.AppendCanonical(nil))
		}
		same(t, label+" ciphertext", m.Ciphertext, xseal(t, key, nonce, pt, ad))
		rm, err := m.MarshalBinary()
		must(t, err)
		env := &dmpb.Envelope{Id: c.Id, RatchetMessage: rm, InviteToken: token}
		envEnc, err := proto.Marshal(env)
		must(t, err)
		fr, err := proto.Marshal(&dmpb.Frame{Body: &dmpb.Frame_Envelope{Envelope: env}})
		must(t, err)
		rec := ratchetMsg{Label: label, From: from, Content: contentVec{ID: hx(c.Id), SentUnixNano: c.SentUnixNano, Text: c.GetText().GetBody()},
			Plaintext: hx(pt), HeaderDH: hx(m.Header.DH[:]), HeaderPN: m.Header.PN, HeaderN: m.Header.N, Header: hx(header),
			CarriesX3DH: m.X3DH != nil, ChainKey: hx(ck), MessageKey: hx(mk), AEADKey: hx(key), AEADNonce: hx(nonce),
			AssociatedData: hx(ad), Ciphertext: hx(m.Ciphertext), RatchetMessage: hx(rm), Envelope: hx(envEnc), Frame: hx(fr),
			Framed: hx(cat(binary.AppendUvarint(nil, uint64(len(fr))), fr))}
		if token != nil {
			rec.InviteToken = hx(token)
		}
		out.Messages = append(out.Messages, rec)
		return m, pt, next
	}
	content := func(n string, at time.Duration, text string) *dmpb.Content {
		return &dmpb.Content{Id: label32("backchannel test vector dm " + n)[:16], SentUnixNano: t0.Add(at).UnixNano(),
			Body: &dmpb.Content_Text{Text: &dmpb.Text{Body: text}}}
	}
	token := unhex(t, inviteToken)
	m0, pt0, ck := message("alice's message 0", "alice", as, aliceSend, content("0", time.Second, "Hi Bob, it's Alice."), token)
	m1, pt1, _ := message("alice's message 1", "alice", as, ck, content("1", 2*time.Second, "Second message, same chain."), token)
	if xh == nil || xh.Ephemeral != [32]byte(x25519Public(t, ek)) || m0.Header.DH != [32]byte(x25519Public(t, ar)) {
		t.Fatalf("the code did not draw the ephemeral and ratchet keys documented")
	}
	xhEnc, err := xh.MarshalBinary()
	must(t, err)
	xcanon := cat(ak.Key[:], ak.DH[:], cbytes(ak.Signature), xh.Ephemeral[:], u64(7), u64(1), u64(42))
	same(t, "X3DH header canonical form", xh.AppendCanonical(nil), xcanon)
	out.X3DH = x3dhVec{DH1: hx(dh1), DH2: hx(dh2), DH3: hx(dh3), DH4: hx(dh4), IKM: hx(ikm), Salt: hx(make([]byte, 32)),
		Info: "backchannel/x3dh/v1", SharedSecret: hx(sk), ADDomain: "backchannel/x3dh/ad/v1", AssociatedData: hx(x3dhAD),
		HeaderEncoding: hx(xhEnc), HeaderCanonical: hx(xcanon)}

	// Bob answers from the X3DH header of the first message he gets.
	var acks []ackVec
	ackOf := func(label string, id []byte) {
		fr, err := proto.Marshal(&dmpb.Frame{Body: &dmpb.Frame_Ack{Ack: &dmpb.Ack{Id: id}}})
		must(t, err)
		acks = append(acks, ackVec{Of: label, Frame: hx(fr), Framed: hx(cat(binary.AppendUvarint(nil, uint64(len(fr))), fr))})
	}
	rm0, err := m0.MarshalBinary()
	must(t, err)
	got0, err := ratchet.UnmarshalMessage(rm0)
	must(t, err)
	bs, err := ratchet.Respond(bob, spk, &opk, *got0.X3DH)
	must(t, err)
	fixRandom(t, seedResponder)
	pt, err := bs.Decrypt(got0)
	must(t, err)
	same(t, "bob reads message 0", pt, pt0)
	ackOf("alice's message 0", label32("backchannel test vector dm 0")[:16])
	br := randomStream(seedResponder, 32)
	out.Random = append(out.Random, randomDrawnV{seedResponder, "bob's first ratchet key, drawn when message 0 makes him take a DH ratchet step (ratchet.Session.Decrypt)", hx(br)})
	pt, err = bs.Decrypt(m1)
	must(t, err)
	same(t, "bob reads message 1", pt, pt1)
	ackOf("alice's message 1", label32("backchannel test vector dm 1")[:16])
	rk2, bobSend := root("bob's first sending chain = alice's first receiving chain", "bob's first ratchet key", "alice's first ratchet key",
		x25519(t, br, x25519Public(t, ar)), rk1)
	m2, pt2, _ := message("bob's reply", "bob", bs, bobSend, content("2", 3*time.Second, "Hello Alice."), nil)

	// Alice reads the reply: a DH ratchet step of her own.
	fixRandom(t, seedInitiator2)
	pt, err = as.Decrypt(m2)
	must(t, err)
	same(t, "alice reads bob's reply", pt, pt2)
	a2 := randomStream(seedInitiator2, 32)
	out.Random = append(out.Random, randomDrawnV{seedInitiator2, "alice's second ratchet key, drawn when bob's reply makes her take a DH ratchet step", hx(a2)})
	_, aliceSend2 := root("alice's second sending chain", "alice's second ratchet key", "bob's first ratchet key",
		x25519(t, a2, x25519Public(t, br)), rk2)
	m3, pt3, _ := message("alice's message 2, after the reply", "alice", as, aliceSend2, content("3", 4*time.Second, "Got it: no more X3DH header."), nil)
	if m3.X3DH != nil || m3.Header.PN != 2 {
		t.Errorf("alice's message after the reply: X3DH header %v, PN %d", m3.X3DH != nil, m3.Header.PN)
	}
	fixRandom(t, seedResponder+1)
	pt, err = bs.Decrypt(m3)
	must(t, err)
	same(t, "bob reads alice's message 2", pt, pt3)
	out.Acks = acks
	return out
}
