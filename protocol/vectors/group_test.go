package vectors

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/node"
	"github.com/backchannel/backchannel/node/groups/content"
	"github.com/backchannel/backchannel/node/groups/groupspb"
)

type groupVector struct {
	About    string           `json:"about"`
	GroupID  string           `json:"group_id"`
	Rosters  []rosterVec      `json:"rosters"`
	Epochs   []epochVec       `json:"epochs"`
	Messages []groupEnvVector `json:"envelopes"`
}

type rosterVec struct {
	Epoch        uint64      `json:"epoch"`
	PrevHash     string      `json:"prev_hash"`
	Signer       keyRef      `json:"signer"`
	Members      []memberVec `json:"members"`
	Domain       string      `json:"domain"`
	SignedBytes  string      `json:"signed_bytes"`
	SigningInput string      `json:"signing_input"`
	Signature    string      `json:"signature"`
	HashLabel    string      `json:"hash_label"`
	Hash         string      `json:"hash"`
	Encoding     string      `json:"encoding"`
}

type memberVec struct {
	Key        keyRef `json:"key"`
	Role       string `json:"role"`
	RoleNumber int    `json:"role_number"`
}

type epochVec struct {
	Epoch           uint64 `json:"epoch"`
	EpochKey        string `json:"epoch_key"`
	GroupKey        string `json:"group_key_encoding"`
	GroupKeyControl string `json:"group_key_control_encoding"`
	TopicInfo       string `json:"topic_info"`
	TopicTag        string `json:"topic_tag"`
	Topic           string `json:"topic"`
	SenderDataBase  string `json:"sender_data_base_key"`
	SenderDataInfo  string `json:"sender_data_base_info"`
}

type groupEnvVector struct {
	Label          string          `json:"label"`
	Epoch          uint64          `json:"epoch"`
	Sender         keyRef          `json:"sender"`
	Seq            uint64          `json:"seq"`
	Content        groupContentVec `json:"content"`
	Plaintext      string          `json:"plaintext"`
	PaddedSize     int             `json:"padded_size"`
	Padded         string          `json:"padded_plaintext"`
	ChainInfo      string          `json:"chain_info"`
	FirstChainKey  string          `json:"first_chain_key"`
	ChainKey       string          `json:"chain_key"`
	MessageKey     string          `json:"message_key"`
	AEADKey        string          `json:"aead_key"`
	AEADNonce      string          `json:"aead_nonce"`
	AssociatedData string          `json:"associated_data"`
	Ciphertext     string          `json:"ciphertext"`
	SignedBytes    string          `json:"signed_bytes"`
	SigningInput   string          `json:"signing_input"`
	Signature      string          `json:"signature"`
	Envelope       string          `json:"envelope_encoding"`
	EnvelopeHash   string          `json:"envelope_hash"`
	Frame          frameVec        `json:"frame"`
	OpenedBy       keyRef          `json:"opened_by"`
}

type groupContentVec struct {
	SentUnixNano int64  `json:"sent_unix_nano"`
	Kind         string `json:"kind"`
	Body         string `json:"body,omitempty"`
	Target       string `json:"target,omitempty"`
	TargetLabel  string `json:"target_label,omitempty"`
	Emoji        string `json:"emoji,omitempty"`
	Delivered    string `json:"delivered,omitempty"`
	Name         string `json:"name,omitempty"`
}

type frameVec struct {
	Sample             string `json:"ciphertext_sample"`
	SenderDataKey      string `json:"sender_data_key"`
	AEADKey            string `json:"aead_key"`
	AEADNonce          string `json:"aead_nonce"`
	SenderDataPlain    string `json:"sender_data_plaintext"`
	AssociatedData     string `json:"associated_data"`
	SenderData         string `json:"sender_data"`
	Encoding           string `json:"encoding"`
	Topic              string `json:"topic"`
	GossipSubMessageID string `json:"gossipsub_message_id"`
}

// groupKeyEncoding is a GroupKey's encoding written from its fields
// (crypto/group/internal/grouppb/group.proto: version 1, group 2, epoch 3,
// key 4; proto3 leaves a zero epoch out).
func groupKeyEncoding(id, key []byte, epoch uint64) []byte {
	b := protowire.AppendTag(nil, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, 1)
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	b = protowire.AppendBytes(b, id)
	if epoch != 0 {
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		b = protowire.AppendVarint(b, epoch)
	}
	b = protowire.AppendTag(b, 4, protowire.BytesType)
	return protowire.AppendBytes(b, key)
}

var groupID = label32("backchannel test vector group id")

func epochKey(epoch uint64) []byte {
	return label32("backchannel test vector group epoch " + string(rune('0'+epoch)) + " key")
}

func buildGroup(t *testing.T) any {
	gid, err := group.IDFromBytes(groupID)
	must(t, err)
	alice, bob, carol := fixedIdentity(t, "alice"), fixedIdentity(t, "bob"), fixedIdentity(t, "carol")
	out := groupVector{
		About: "A group's rosters (epoch 0 by the owner, epoch 1 by an admin who removed a member), its epoch keys and topics, " +
			"and envelopes sealed in epoch 1, framed for the topic and opened by another member. See docs/PROTOCOL.md, Groups.",
		GroupID: hx(groupID),
	}

	// Rosters.
	r0, err := group.Genesis(alice.Signing(), gid, []group.Member{
		{Key: carol.Public().Key, Role: group.RoleMember},
		{Key: alice.Public().Key, Role: group.RoleOwner},
		{Key: bob.Public().Key, Role: group.RoleAdmin},
	})
	must(t, err)
	r1, err := r0.Next(bob.Signing(), []group.Member{{Key: alice.Public().Key, Role: group.RoleOwner}, {Key: bob.Public().Key, Role: group.RoleAdmin}})
	must(t, err)
	must(t, group.VerifyChain(alice.Public().Key, []*group.Roster{r0, r1}))
	names := map[keys.PublicKey]string{}
	for _, n := range identityNames {
		names[fixedIdentity(t, n).Public().Key] = n
	}
	rosterBytes := map[uint64][]byte{}
	for _, r := range []*group.Roster{r0, r1} {
		signed := cat(groupID, u64(r.Epoch), r.PrevHash[:], r.Signer[:], u64(uint64(len(r.Members))))
		rv := rosterVec{Epoch: r.Epoch, PrevHash: hx(r.PrevHash[:]), Signer: refOf(t, names[r.Signer]), Domain: "group/roster/v2",
			HashLabel: "backchannel/group/roster-hash/v2"}
		for _, m := range r.Members {
			signed = cat(signed, m.Key[:], []byte{byte(m.Role)})
			rv.Members = append(rv.Members, memberVec{Key: refOf(t, names[m.Key]), Role: m.Role.String(), RoleNumber: int(m.Role)})
		}
		signer := alice
		if r.Signer == bob.Public().Key {
			signer = bob
		}
		checkSigned(t, "roster", signer.Signing(), "group/roster/v2", signed, r.Signature)
		h := r.Hash()
		want := sha256.Sum256(cat(cstr("backchannel/group/roster-hash/v2"), cbytes(signed), cbytes(r.Signature)))
		same(t, "roster hash", h[:], want[:])
		enc, err := r.MarshalBinary()
		must(t, err)
		back, err := group.UnmarshalRoster(enc)
		must(t, err)
		if back.Hash() != h {
			t.Errorf("roster %d does not decode back", r.Epoch)
		}
		rosterBytes[r.Epoch] = enc
		rv.SignedBytes, rv.SigningInput, rv.Signature, rv.Hash, rv.Encoding = hx(signed), hx(signingInput("group/roster/v2", signed)), hx(r.Signature), hx(h[:]), hx(enc)
		out.Rosters = append(out.Rosters, rv)
	}

	// Epoch keys and topics.
	gks := map[uint64]group.GroupKey{}
	for _, epoch := range []uint64{0, 1} {
		enc := groupKeyEncoding(groupID, epochKey(epoch), epoch)
		gk, err := group.UnmarshalGroupKey(enc)
		must(t, err)
		back, err := gk.MarshalBinary()
		must(t, err)
		same(t, "group key encoding", back, enc)
		gks[epoch] = gk
		info := cat(cstr("backchannel/group/epoch-topic/v1"), u64(epoch))
		tag := hkdfKey(t, epochKey(epoch), groupID, string(info), 16)
		if topic := gk.Topic(); topic != "/backchannel/g/"+hex.EncodeToString(tag) {
			t.Errorf("epoch %d topic %s, documented %x", epoch, topic, tag)
		}
		sdInfo := cat(cstr("backchannel/group/sender-data-key/v1"), u64(epoch))
		control, err := proto.Marshal(&groupspb.GroupKey{Key: enc, Roster: rosterBytes[epoch]})
		must(t, err)
		out.Epochs = append(out.Epochs, epochVec{Epoch: epoch, EpochKey: hx(epochKey(epoch)), GroupKey: hx(enc), GroupKeyControl: hx(control),
			TopicInfo: hx(info), TopicTag: hx(tag), Topic: gk.Topic(),
			SenderDataBase: hx(hkdfKey(t, epochKey(epoch), groupID, string(sdInfo), 32)), SenderDataInfo: hx(sdInfo)})
	}

	// Envelopes of epoch 1.
	gk := gks[1]
	chains := map[string]*group.SendChain{}
	for _, n := range []string{"alice", "bob"} {
		c, err := group.NewSendChain(gk, fixedIdentity(t, n).Signing())
		must(t, err)
		chains[n] = c
	}
	receivers := map[string]*group.ReceiveChain{}
	ids := map[string][32]byte{}
	type envInput struct {
		label, sender, opener string
		at                    time.Duration
		content               func() (*groupspb.GroupContent, groupContentVec)
	}
	long := strings.Repeat("A line long enough to need the next padded size. ", 6)
	inputs := []envInput{
		{"text", "alice", "bob", 20 * time.Second, func() (*groupspb.GroupContent, groupContentVec) {
			return &groupspb.GroupContent{Body: &groupspb.GroupContent_Text{Text: &groupspb.GroupText{Body: "Hello, group!"}}},
				groupContentVec{Kind: "text", Body: "Hello, group!"}
		}},
		{"reaction", "alice", "bob", 21 * time.Second, func() (*groupspb.GroupContent, groupContentVec) {
			id := ids["text"]
			return &groupspb.GroupContent{Body: &groupspb.GroupContent_Reaction{Reaction: &groupspb.GroupReaction{Target: id[:], Emoji: "🎉"}}},
				groupContentVec{Kind: "reaction", Target: hx(id[:]), TargetLabel: "text", Emoji: "🎉"}
		}},
		{"long text (1 KiB padded)", "bob", "alice", 22 * time.Second, func() (*groupspb.GroupContent, groupContentVec) {
			return &groupspb.GroupContent{Body: &groupspb.GroupContent_Text{Text: &groupspb.GroupText{Body: long}}},
				groupContentVec{Kind: "text", Body: long}
		}},
		{"receipt", "bob", "alice", 23 * time.Second, func() (*groupspb.GroupContent, groupContentVec) {
			ak := alice.Public().Key
			return &groupspb.GroupContent{Body: &groupspb.GroupContent_Receipt{Receipt: &groupspb.GroupReceipt{
					Delivered: []*groupspb.GroupMark{{Epoch: 1, Sender: ak[:], Next: 2}}}}},
				groupContentVec{Kind: "receipt", Delivered: "epoch 1, sender alice, next 2"}
		}},
		{"profile name", "alice", "bob", 24 * time.Second, func() (*groupspb.GroupContent, groupContentVec) {
			const name = "Alice"
			must(t, content.CheckProfileName(name))
			return &groupspb.GroupContent{Body: &groupspb.GroupContent_Profile{Profile: &groupspb.GroupProfile{Name: name}}},
				groupContentVec{Kind: "profile", Name: name}
		}},
	}
	firstKeys := map[string][]byte{}
	ckAt := map[string][]byte{}
	for _, in := range inputs {
		sender := fixedIdentity(t, in.sender)
		sk := sender.Public().Key
		gc, cv := in.content()
		sent := t0.Add(in.at)
		gc.SentUnixNano, cv.SentUnixNano = sent.UnixNano(), sent.UnixNano()
		pt, err := proto.Marshal(gc)
		must(t, err)
		sc := chains[in.sender]
		seq := sc.Next()
		e, err := sc.Seal(pt)
		must(t, err)

		chainInfo := cat(cstr("backchannel/group/chain/v1"), u64(1), sk[:])
		if firstKeys[in.sender] == nil {
			firstKeys[in.sender] = hkdfKey(t, epochKey(1), groupID, string(chainInfo), 32)
			ckAt[in.sender] = firstKeys[in.sender]
		}
		ck := ckAt[in.sender]
		next, mk := chainStep(ck)
		ckAt[in.sender] = next
		size := 0
		for _, s := range group.PaddedSizes {
			if len(pt) < s {
				size = s
				break
			}
		}
		padded := make([]byte, size)
		copy(padded, pt)
		padded[len(pt)] = 0x80
		key, nonce := aeadOf(t, mk, "backchannel/group/message/v1")
		ad := cat(cstr("backchannel/group/message-ad/v1"), groupID, u64(1), sk[:], u64(seq))
		same(t, in.label+" ciphertext", e.Ciphertext, xseal(t, key, nonce, padded, ad))
		signed := cat(groupID, u64(1), sk[:], u64(seq), cbytes(e.Ciphertext))
		checkSigned(t, in.label, sender.Signing(), "group/envelope/v2", signed, e.Signature)
		must(t, e.VerifySignature())
		enc, err := e.MarshalBinary()
		must(t, err)
		h := e.Hash()
		want := sha256.Sum256(cat(cstr("backchannel/group/envelope-hash/v1"), cbytes(signed), cbytes(e.Signature)))
		same(t, in.label+" envelope hash", h[:], want[:])
		ids[in.label] = h

		frame, err := gk.Frame(e)
		must(t, err)
		sample := e.Ciphertext[:16]
		sdInfo := cat(cstr("backchannel/group/sender-data-key/v1"), u64(1))
		base := hkdfKey(t, epochKey(1), groupID, string(sdInfo), 32)
		sdk := hkdfKey(t, base, sample, "backchannel/group/sender-data/v1", 32)
		fkey, fnonce := aeadOf(t, sdk, "backchannel/group/sender-data/v1")
		sdPlain := cat(sk[:], u64(seq), e.Signature)
		fad := cat(cstr("backchannel/group/frame-ad/v1"), u64(1))
		sd := xseal(t, fkey, fnonce, sdPlain, fad)
		var fb []byte
		fb = protowire.AppendTag(fb, 1, protowire.VarintType)
		fb = protowire.AppendVarint(fb, 1)
		fb = protowire.AppendTag(fb, 2, protowire.BytesType)
		fb = protowire.AppendBytes(fb, sd)
		fb = protowire.AppendTag(fb, 3, protowire.BytesType)
		fb = protowire.AppendBytes(fb, e.Ciphertext)
		same(t, in.label+" frame", frame, fb)
		topic := gk.Topic()
		gsid := node.PubSubMessageID(topic, frame)
		gsWant := sha256.Sum256(cat([]byte(topic), []byte{0}, frame))
		same(t, in.label+" GossipSub message ID", []byte(gsid), gsWant[:])

		// The other member opens the frame.
		opened, err := gk.Unframe(frame)
		must(t, err)
		if opened.Hash() != h {
			t.Errorf("%s: the frame opens to another envelope", in.label)
		}
		must(t, r1.CheckSender(opened))
		rc := receivers[in.sender]
		if rc == nil {
			rc, err = group.NewReceiveChain(gk, sk)
			must(t, err)
			receivers[in.sender] = rc
		}
		got, err := rc.Open(opened)
		must(t, err)
		same(t, in.label+" opened", got, pt)
		stored, err := group.UnmarshalEnvelope(enc)
		must(t, err)
		must(t, stored.VerifySignature())

		out.Messages = append(out.Messages, groupEnvVector{
			Label: in.label, Epoch: 1, Sender: refOf(t, in.sender), Seq: seq, Content: cv, Plaintext: hx(pt),
			PaddedSize: size, Padded: hx(padded), ChainInfo: hx(chainInfo), FirstChainKey: hx(firstKeys[in.sender]),
			ChainKey: hx(ck), MessageKey: hx(mk), AEADKey: hx(key), AEADNonce: hx(nonce), AssociatedData: hx(ad),
			Ciphertext: hx(e.Ciphertext), SignedBytes: hx(signed), SigningInput: hx(signingInput("group/envelope/v2", signed)),
			Signature: hx(e.Signature), Envelope: hx(enc), EnvelopeHash: hx(h[:]),
			Frame: frameVec{Sample: hx(sample), SenderDataKey: hx(sdk), AEADKey: hx(fkey), AEADNonce: hx(fnonce),
				SenderDataPlain: hx(sdPlain), AssociatedData: hx(fad), SenderData: hx(sd), Encoding: hx(frame), Topic: topic,
				GossipSubMessageID: hx([]byte(gsid))},
			OpenedBy: refOf(t, in.opener),
		})
	}
	// A frame of epoch 1 does not open under epoch 0's key.
	if _, err := gks[0].Unframe(unhex(t, out.Messages[0].Frame.Encoding)); err == nil {
		t.Errorf("a frame opened under another epoch's key")
	}
	return out
}
