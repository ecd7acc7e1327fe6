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
	Ballots         ballotsVec   `json:"ballots"`
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
	Version     int             `json:"version"`
	Text        string          `json:"text,omitempty"`
	ReplyTo     string          `json:"reply_to,omitempty"`
	Name        string          `json:"name,omitempty"`
	Target      string          `json:"target,omitempty"`
	TargetLabel string          `json:"target_label,omitempty"`
	Emoji       string          `json:"emoji,omitempty"`
	TTLSeconds  int             `json:"ttl_seconds,omitempty"`
	Leaving     bool            `json:"leaving,omitempty"`
	Peer        string          `json:"peer,omitempty"`
	UntilUnixMs int64           `json:"until_unix_ms,omitempty"`
	Present     uint32          `json:"present,omitempty"`
	Counts      []tallyCountVec `json:"counts,omitempty"`
	Note        string          `json:"note,omitempty"`
}

// tallyCountVec is one TallyCount of a tally's body.
type tallyCountVec struct {
	Target      string `json:"target"`
	TargetLabel string `json:"target_label"`
	Emoji       string `json:"emoji"`
	Count       uint32 `json:"count"`
}

// ballotsVec is the ballots handed to the room's host
// (/backchannel/rooms/ballot/1.0.0): signed, but not room messages.
type ballotsVec struct {
	About    string      `json:"about"`
	Protocol string      `json:"protocol"`
	Domain   string      `json:"domain"`
	IDLabel  string      `json:"id_label"`
	Ballots  []ballotVec `json:"ballots"`
}

type ballotVec struct {
	Label        string `json:"label"`
	Voter        keyRef `json:"voter"`
	Target       string `json:"target"`
	TargetLabel  string `json:"target_label"`
	Emoji        string `json:"emoji"`
	Time         string `json:"time"`
	TimeUnixMs   int64  `json:"time_unix_ms"`
	SignedBytes  string `json:"signed_bytes"`
	SigningInput string `json:"signing_input"`
	Signature    string `json:"signature"`
	Encoding     string `json:"encoding"`
	ID           string `json:"id"`
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
		{"tally with counts and a census", room.KindTally, "host", 5, 14 * time.Second, func(ids map[string]room.MessageID) ([]byte, bodyVec, *room.RoleGrant) {
			tb := roomstate.TallyBody{Present: tallyPresent}
			bv := bodyVec{Version: 1, Present: tallyPresent,
				Note: "the host's totals of the votes it took, by message or ballot (the two ballots below among them), and the peers present by their own presences"}
			for _, c := range tallyCounts {
				id := ids[c.of]
				tb.Counts = append(tb.Counts, roomstate.TallyCount{Target: id, Emoji: c.emoji, Count: c.count})
				bv.Counts = append(bv.Counts, tallyCountVec{Target: hx(id[:]), TargetLabel: c.of, Emoji: c.emoji, Count: c.count})
			}
			b, err := roomstate.EncodeTally(tb)
			must(t, err)
			return b, bv, nil
		}},
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
	// The tally raises what the room counts, and its census stands in for
	// the presences not seen: bob alone is present by his own.
	for _, c := range tallyCounts {
		if n := st.Count(ids[c.of], c.emoji); n != int(c.count) {
			t.Errorf("after the tally, %s %q counts %d, want %d", c.of, c.emoji, n, c.count)
		}
	}
	if listeners, speakers := st.Presence(ts(14 * time.Second)); st.PresentSeen(ts(14*time.Second)) != 1 || listeners != tallyPresent || len(speakers) != 0 {
		t.Errorf("after the census, %d listeners and %d speakers, want %d and none", listeners, len(speakers), tallyPresent)
	}
	out.Ballots = buildBallots(t, st, ids)

	raw := []byte("not a room message")
	rawID := sha256.Sum256(cat(cstr("backchannel/room/raw-message-id/v1"), cbytes(raw)))
	same(t, "undecodable data's ID", []byte(node.PubSubMessageID(topic, raw)), rawID[:])
	out.Undecodable = rawIDVec{Data: hx(raw), Label: "backchannel/room/raw-message-id/v1", GossipSubMessageID: hx(rawID[:])}
	return out
}

// The tally's census and counts (raised well above the votes the vectors
// show: the host of a large room took many more).
const tallyPresent = 120

var tallyCounts = []struct {
	of    string
	emoji string
	count uint32
}{
	{"question with a name", "", 250},
	{"chat with a name", "👍", 42},
	{"chat with a name", "🎉", 17},
}

// buildBallots makes alice's upvote and reaction handed to the host as
// ballots, and checks them as the host does before it takes them: they
// decode and verify, their target is a visible question (an upvote) or
// line, their voter is not muted, and the room's state counts them.
func buildBallots(t *testing.T, st *roomstate.State, ids map[string]room.MessageID) ballotsVec {
	d := st.Descriptor()
	alice := fixedIdentity(t, "alice")
	out := ballotsVec{
		About: "Votes handed to the room's host over /backchannel/rooms/ballot/1.0.0 instead of published: signed by their voter, " +
			"bound to the room, with no sequence number; they are not room messages. Each is the ballot field of a BallotRequest " +
			"(node/rooms/internal/roomspb/rooms.proto). See docs/PROTOCOL.md, Ballots.",
		Protocol: rooms.ProtocolBallot, Domain: "room/ballot/v1", IDLabel: "backchannel/room/ballot-id/v1",
	}
	for _, in := range []struct {
		label, of, emoji string
		at               time.Duration
	}{
		{"upvote ballot", "question with a name", "", 13250 * time.Millisecond},
		{"reaction ballot", "chat with a name", "🎉", 13500 * time.Millisecond},
	} {
		target := ids[in.of]
		b := room.Ballot{Room: d.Room, Target: target, Emoji: in.emoji, Time: t0.Add(in.at)}
		must(t, b.Sign(alice.Signing()))
		vk := alice.Public().Key
		signed := cat(d.Room[:], target[:], cstr(in.emoji), vk[:], i64(ms(b.Time)))
		checkSigned(t, in.label, alice.Signing(), "room/ballot/v1", signed, b.Signature[:])
		enc, err := b.MarshalBinary()
		must(t, err)
		back, err := room.UnmarshalBallot(enc)
		must(t, err)
		must(t, back.Verify(d.Room))
		id := back.ID()
		want := sha256.Sum256(cat(cstr("backchannel/room/ballot-id/v1"), cbytes(signed), b.Signature[:]))
		same(t, in.label+" ID", id[:], want[:])
		kind, visible := st.VisibleKind(target)
		if !visible || (back.Upvote() && kind != room.KindQuestion) || st.Muted(vk, b.Time) {
			t.Errorf("%s: the host would not take it", in.label)
		}
		must(t, st.ApplyBallot(back))
		if !st.HasBallot(id) {
			t.Errorf("%s: not counted", in.label)
		}
		out.Ballots = append(out.Ballots, ballotVec{
			Label: in.label, Voter: refOf(t, "alice"), Target: hx(target[:]), TargetLabel: in.of, Emoji: in.emoji,
			Time: rfc(b.Time), TimeUnixMs: ms(b.Time), SignedBytes: hx(signed), SigningInput: hx(signingInput("room/ballot/v1", signed)),
			Signature: hx(b.Signature[:]), Encoding: hx(enc), ID: hx(id[:]),
		})
	}
	return out
}
