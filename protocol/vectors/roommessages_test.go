package vectors

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node"
	"github.com/backchannel/backchannel/node/rooms"
	"github.com/backchannel/backchannel/node/rooms/roomstate"
)

type roomMessagesVector struct {
	About           string       `json:"about"`
	RoomID          string       `json:"room_id"`
	Topic           string       `json:"topic"`
	Domain          string       `json:"domain"`
	MessageIDLabel  string       `json:"message_id_label"`
	Messages        []roomMsgVec `json:"messages"`
	Undecodable     rawIDVec     `json:"undecodable_data"`
	ValidationOrder string       `json:"validation"`
}

type roomMsgVec struct {
	Label              string    `json:"label"`
	Kind               string    `json:"kind"`
	KindNumber         int       `json:"kind_number"`
	Sender             keyRef    `json:"sender"`
	Seq                uint64    `json:"seq"`
	Timestamp          string    `json:"timestamp"`
	TimestampUnixMs    int64     `json:"timestamp_unix_ms"`
	Body               bodyVec   `json:"body"`
	BodyEncoding       string    `json:"body_encoding"`
	Grant              *grantVec `json:"grant,omitempty"`
	SignedBytes        string    `json:"signed_bytes"`
	SigningInput       string    `json:"signing_input"`
	Signature          string    `json:"signature"`
	Encoding           string    `json:"encoding"`
	MessageID          string    `json:"message_id"`
	GossipSubMessageID string    `json:"gossipsub_message_id"`
}

// bodyVec is a body's fields, by their names in roomstate.proto.
type bodyVec struct {
	Version     int    `json:"version"`
	Text        string `json:"text,omitempty"`
	ReplyTo     string `json:"reply_to,omitempty"`
	Name        string `json:"name,omitempty"`
	Target      string `json:"target,omitempty"`
	TargetLabel string `json:"target_label,omitempty"`
	Emoji       string `json:"emoji,omitempty"`
	TTLSeconds  int    `json:"ttl_seconds,omitempty"`
	Leaving     bool   `json:"leaving,omitempty"`
	Peer        string `json:"peer,omitempty"`
	UntilUnixMs int64  `json:"until_unix_ms,omitempty"`
	Note        string `json:"note,omitempty"`
}

type grantVec struct {
	Grantee         keyRef `json:"grantee"`
	Role            string `json:"role"`
	RoleNumber      int    `json:"role_number"`
	IssuedAtUnixMs  int64  `json:"issued_at_unix_ms"`
	ExpiresAtUnixMs int64  `json:"expires_at_unix_ms"`
	Domain          string `json:"domain"`
	SignedBytes     string `json:"signed_bytes"`
	SigningInput    string `json:"signing_input"`
	Signature       string `json:"signature"`
	Encoding        string `json:"encoding"`
}

type rawIDVec struct {
	Data               string `json:"data"`
	Label              string `json:"label"`
	GossipSubMessageID string `json:"gossipsub_message_id"`
}

// roomMsgInput is one message of the vectors' room.
type roomMsgInput struct {
	label  string
	kind   room.Kind
	sender string
	seq    uint64
	at     time.Duration // after t0
	body   func(ids map[string]room.MessageID) ([]byte, bodyVec, *room.RoleGrant)
}

func buildRoomMessages(t *testing.T) any {
	d := vectorRoom(t)
	topic := rooms.Topic(d.Room)
	key := func(name string) keys.PublicKey { return fixedIdentity(t, name).Public().Key }
	ts := func(at time.Duration) time.Time { return t0.Add(at) }
	target := func(enc func(room.MessageID) ([]byte, error)) func(string) func(map[string]room.MessageID) ([]byte, bodyVec, *room.RoleGrant) {
		return func(of string) func(map[string]room.MessageID) ([]byte, bodyVec, *room.RoleGrant) {
			return func(ids map[string]room.MessageID) ([]byte, bodyVec, *room.RoleGrant) {
				id := ids[of]
				b, err := enc(id)
				must(t, err)
				bv := bodyVec{Version: 1, TargetLabel: of}
				if id != (room.MessageID{}) {
					bv.Target = hx(id[:])
				} else {
					bv.Note = "an empty target: unpin"
				}
				return b, bv, nil
			}
		}
	}
	upvote := target(roomstate.EncodeUpvote)
	answered := target(roomstate.EncodeAnswered)
	pin := target(roomstate.EncodePin)
	hide := target(roomstate.EncodeHide)
	grantAt := ts(7 * time.Second)
	muteAt := ts(11 * time.Second)
	inputs := []roomMsgInput{
		{"chat with a name", room.KindChat, "alice", 1, time.Second, func(map[string]room.MessageID) ([]byte, bodyVec, *room.RoleGrant) {
			c := roomstate.ChatBody{Text: "Hello, room!", Name: "Alice"}
			b, err := roomstate.EncodeChat(c)
			must(t, err)
			return b, bodyVec{Version: 1, Text: c.Text, Name: c.Name}, nil
		}},
		{"question with a name", room.KindQuestion, "bob", 1, 2 * time.Second, func(map[string]room.MessageID) ([]byte, bodyVec, *room.RoleGrant) {
			q := roomstate.QuestionBody{Text: "How is a room ID made?", Name: "Bob"}
			b, err := roomstate.EncodeQuestion(q)
			must(t, err)
			return b, bodyVec{Version: 1, Text: q.Text, Name: q.Name}, nil
		}},
		{"presence with a name", room.KindPresence, "bob", 2, 3 * time.Second, func(map[string]room.MessageID) ([]byte, bodyVec, *room.RoleGrant) {
			p := roomstate.PresenceBody{TTL: 2 * time.Minute, Name: "Bob"}
			b, err := roomstate.EncodePresence(p)
			must(t, err)
			return b, bodyVec{Version: 1, TTLSeconds: 120, Name: p.Name}, nil
		}},
		{"upvote", room.KindUpvote, "alice", 2, 4 * time.Second, upvote("question with a name")},
		{"reaction", room.KindReaction, "bob", 3, 5 * time.Second, func(ids map[string]room.MessageID) ([]byte, bodyVec, *room.RoleGrant) {
			id := ids["chat with a name"]
			b, err := roomstate.EncodeReaction(id, "👍")
			must(t, err)
			return b, bodyVec{Version: 1, Target: hx(id[:]), TargetLabel: "chat with a name", Emoji: "👍"}, nil
		}},
		{"chat replying, without a name", room.KindChat, "carol", 1, 6 * time.Second, func(ids map[string]room.MessageID) ([]byte, bodyVec, *room.RoleGrant) {
			id := ids["chat with a name"]
			c := roomstate.ChatBody{Text: "Welcome!", ReplyTo: id}
			b, err := roomstate.EncodeChat(c)
			must(t, err)
			return b, bodyVec{Version: 1, Text: c.Text, ReplyTo: hx(id[:]), TargetLabel: "chat with a name", Note: "no name field: the sender goes by no name"}, nil
		}},
		{"role grant", room.KindRoleGrant, "host", 1, 7 * time.Second, func(map[string]room.MessageID) ([]byte, bodyVec, *room.RoleGrant) {
			g := room.RoleGrant{Room: d.Room, Grantee: key("carol"), Role: room.RoleModerator, IssuedAt: grantAt, ExpiresAt: grantAt.Add(24 * time.Hour)}
			must(t, g.Sign(fixedIdentity(t, "host").Signing()))
			b, err := roomstate.EncodeRoleGrant(g)
			must(t, err)
			return b, bodyVec{Version: 1, Note: "the body is the encoded RoleGrant (crypto/room/internal/roompb/room.proto), see grant"}, &g
		}},
		{"answered", room.KindAnswered, "carol", 2, 8 * time.Second, answered("question with a name")},
		{"pin", room.KindPin, "host", 2, 9 * time.Second, pin("chat with a name")},
		{"hide", room.KindHide, "carol", 3, 10 * time.Second, hide("reaction")},
		{"mute", room.KindMute, "host", 3, 11 * time.Second, func(map[string]room.MessageID) ([]byte, bodyVec, *room.RoleGrant) {
			until := muteAt.Add(10 * time.Minute)
			b, err := roomstate.EncodeMute(key("bob"), until)
			must(t, err)
			pk := key("bob")
			return b, bodyVec{Version: 1, Peer: hx(pk[:]), UntilUnixMs: ms(until)}, nil
		}},
		{"presence leaving, with a name", room.KindPresence, "alice", 3, 12 * time.Second, func(map[string]room.MessageID) ([]byte, bodyVec, *room.RoleGrant) {
			p := roomstate.PresenceBody{TTL: 2 * time.Minute, Leaving: true, Name: "Alice"}
			b, err := roomstate.EncodePresence(p)
			must(t, err)
			return b, bodyVec{Version: 1, TTLSeconds: 120, Leaving: true, Name: p.Name}, nil
		}},
		{"unpin", room.KindPin, "host", 4, 13 * time.Second, pin("")},
	}

	st := roomstate.New(d)
	ids := map[string]room.MessageID{}
	out := roomMessagesVector{
		About: "Signed messages of the room of room.json, one of each kind, in the order they were sent; each is valid in the room " +
			"given the ones before it (checked with node/rooms/roomstate). See docs/PROTOCOL.md, Rooms.",
		RoomID: hx(d.Room[:]), Topic: topic, Domain: "room/message/v1", MessageIDLabel: "backchannel/room/message-id/v1",
		ValidationOrder: "each message passes room.Message.Verify(room) and roomstate.State.Allowed at its own timestamp",
	}
	for _, in := range inputs {
		sender := fixedIdentity(t, in.sender)
		body, bv, g := in.body(ids)
		m := room.Message{Room: d.Room, Kind: in.kind, Seq: in.seq, Timestamp: ts(in.at), Body: body}
		must(t, m.Sign(sender.Signing()))
		sk := sender.Public().Key
		signed := cat(d.Room[:], u64(uint64(in.kind)), sk[:], u64(in.seq), i64(ms(m.Timestamp)), cbytes(body))
		checkSigned(t, in.label, sender.Signing(), "room/message/v1", signed, m.Signature[:])
		enc, err := m.MarshalBinary()
		must(t, err)
		back, err := room.UnmarshalMessage(enc)
		must(t, err)
		must(t, back.Verify(d.Room))
		id := m.ID()
		want := sha256.Sum256(cat(cstr("backchannel/room/message-id/v1"), cbytes(signed), m.Signature[:]))
		same(t, in.label+" message ID", id[:], want[:])
		gsid := node.PubSubMessageID(topic, enc)
		same(t, in.label+" GossipSub message ID", []byte(gsid), id[:])
		if err := st.Allowed(back, m.Timestamp); err != nil {
			t.Errorf("%s: not allowed in the room: %v", in.label, err)
		}
		must(t, st.Apply(back))
		ids[in.label] = id
		rec := roomMsgVec{
			Label: in.label, Kind: in.kind.String(), KindNumber: int(in.kind), Sender: refOf(t, in.sender), Seq: in.seq,
			Timestamp: rfc(m.Timestamp), TimestampUnixMs: ms(m.Timestamp), Body: bv, BodyEncoding: hx(body),
			SignedBytes: hx(signed), SigningInput: hx(signingInput("room/message/v1", signed)), Signature: hx(m.Signature[:]),
			Encoding: hx(enc), MessageID: hx(id[:]), GossipSubMessageID: hx([]byte(gsid)),
		}
		if g != nil {
			gs := cat(g.Room[:], g.Grantee[:], u64(uint64(g.Role)), i64(ms(g.IssuedAt)), i64(ms(g.ExpiresAt)))
			checkSigned(t, "grant", fixedIdentity(t, "host").Signing(), "room/grant/v1", gs, g.Signature[:])
			must(t, g.Verify(d.Host, d.Room, m.Timestamp))
			rec.Grant = &grantVec{Grantee: refOf(t, "carol"), Role: g.Role.String(), RoleNumber: int(g.Role),
				IssuedAtUnixMs: ms(g.IssuedAt), ExpiresAtUnixMs: ms(g.ExpiresAt), Domain: "room/grant/v1",
				SignedBytes: hx(gs), SigningInput: hx(signingInput("room/grant/v1", gs)), Signature: hx(g.Signature[:]), Encoding: hx(body)}
		}
		out.Messages = append(out.Messages, rec)
	}
	if !st.Muted(key("bob"), muteAt.Add(time.Minute)) || st.Pinned() != (room.MessageID{}) || !st.Hidden(ids["reaction"]) {
		t.Errorf("the room's state after the vectors is not what they say")
	}

	raw := []byte("not a room message")
	rawID := sha256.Sum256(cat(cstr("backchannel/room/raw-message-id/v1"), cbytes(raw)))
	same(t, "undecodable data's ID", []byte(node.PubSubMessageID(topic, raw)), rawID[:])
	out.Undecodable = rawIDVec{Data: hx(raw), Label: "backchannel/room/raw-message-id/v1", GossipSubMessageID: hx(rawID[:])}
	return out
}
