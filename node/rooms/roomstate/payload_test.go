package roomstate

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node/rooms/roomstate/internal/roomstatepb"
)

var someID = room.MessageID{1, 2, 3}

func TestPayloadRoundTrip(t *testing.T) {
	peer := keys.GeneratePrivateKey().Public()
	chat := func(text string, reply room.MessageID) func(t *testing.T) {
		return func(t *testing.T) {
			got, err := DecodeChat(must(t)(EncodeChat(ChatBody{Text: text, ReplyTo: reply})))
			if err != nil || got != (ChatBody{Text: text, ReplyTo: reply}) {
				t.Fatalf("DecodeChat = %+v, %v", got, err)
			}
		}
	}
	t.Run("chat", chat("hello", room.MessageID{}))
	t.Run("chat reply", chat(strings.Repeat("é", MaxChatSize/2), someID))
	t.Run("chat with a name", func(t *testing.T) {
		want := ChatBody{Text: "hi", Name: strings.Repeat("é", MaxNameSize/2)}
		if got, err := DecodeChat(must(t)(EncodeChat(want))); err != nil || got != want {
			t.Fatalf("DecodeChat = %+v, %v", got, err)
		}
	})
	t.Run("question", func(t *testing.T) {
		want := QuestionBody{Text: "why?", Name: "Zoë"}
		if got, err := DecodeQuestion(must(t)(EncodeQuestion(want))); err != nil || got != want {
			t.Fatalf("DecodeQuestion = %+v, %v", got, err)
		}
	})
	targets := []struct {
		name   string
		enc    func(room.MessageID) ([]byte, error)
		dec    func([]byte) (room.MessageID, error)
		zeroOK bool
	}{
		{"upvote", EncodeUpvote, DecodeUpvote, false},
		{"answered", EncodeAnswered, DecodeAnswered, false},
		{"pin", EncodePin, DecodePin, true},
		{"hide", EncodeHide, DecodeHide, false},
	}
	for _, tt := range targets {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := tt.dec(must(t)(tt.enc(someID))); err != nil || got != someID {
				t.Fatalf("decode = %s, %v", got, err)
			}
			b, err := tt.enc(room.MessageID{})
			if tt.zeroOK {
				if got, err := tt.dec(b); err != nil || got != (room.MessageID{}) {
					t.Fatalf("decode zero = %s, %v", got, err)
				}
			} else if !errors.Is(err, ErrBadBody) {
				t.Fatalf("encode zero target: %v, want ErrBadBody", err)
			}
		})
	}
	t.Run("reaction", func(t *testing.T) {
		got, err := DecodeReaction(must(t)(EncodeReaction(someID, "👍")))
		if err != nil || got != (ReactionBody{Target: someID, Emoji: "👍"}) {
			t.Fatalf("DecodeReaction = %+v, %v", got, err)
		}
	})
	t.Run("presence", func(t *testing.T) {
		want := PresenceBody{TTL: MaxPresenceTTL, Leaving: true, Name: "bob"}
		got, err := DecodePresence(must(t)(EncodePresence(want)))
		if err != nil || got != want {
			t.Fatalf("DecodePresence = %+v, %v", got, err)
		}
	})
	t.Run("mute", func(t *testing.T) {
		got, err := DecodeMute(must(t)(EncodeMute(peer, t0)))
		if err != nil || got != (MuteBody{Peer: peer, Until: t0}) {
			t.Fatalf("DecodeMute = %+v, %v", got, err)
		}
	})
}

func TestEncodeRejects(t *testing.T) {
	tests := []struct {
		name string
		enc  func() ([]byte, error)
	}{
		{"empty chat", func() ([]byte, error) { return EncodeChat(ChatBody{Text: "", ReplyTo: room.MessageID{}}) }},
		{"long chat", func() ([]byte, error) {
			return EncodeChat(ChatBody{Text: strings.Repeat("a", MaxChatSize+1), ReplyTo: room.MessageID{}})
		}},
		{"chat not UTF-8", func() ([]byte, error) { return EncodeChat(ChatBody{Text: "\xc3", ReplyTo: room.MessageID{}}) }},
		{"long question", func() ([]byte, error) {
			return EncodeQuestion(QuestionBody{Text: strings.Repeat("a", MaxQuestionSize+1)})
		}},
		{"empty question", func() ([]byte, error) { return EncodeQuestion(QuestionBody{Text: ""}) }},
		{"long emoji", func() ([]byte, error) { return EncodeReaction(someID, strings.Repeat("a", MaxEmojiSize+1)) }},
		{"reaction to zero", func() ([]byte, error) { return EncodeReaction(room.MessageID{}, "👍") }},
		{"short TTL", func() ([]byte, error) {
			return EncodePresence(PresenceBody{TTL: MinPresenceTTL - time.Second, Leaving: false})
		}},
		{"long TTL", func() ([]byte, error) {
			return EncodePresence(PresenceBody{TTL: MaxPresenceTTL + time.Second, Leaving: false})
		}},
		{"fractional TTL", func() ([]byte, error) {
			return EncodePresence(PresenceBody{TTL: MinPresenceTTL + time.Millisecond, Leaving: false})
		}},
		{"mute of zero key", func() ([]byte, error) { return EncodeMute(keys.PublicKey{}, t0) }},
		{"mute until 1970", func() ([]byte, error) { return EncodeMute(keys.GeneratePrivateKey().Public(), time.Unix(0, 0)) }},
		{"unsigned grant", func() ([]byte, error) { return EncodeRoleGrant(room.RoleGrant{}) }},
		{"name with ESC", func() ([]byte, error) { return EncodeChat(ChatBody{Text: "hi", Name: "a\x1b[2J"}) }},
		{"name with RLO", func() ([]byte, error) { return EncodeQuestion(QuestionBody{Text: "q", Name: "gnp\u202e.exe"}) }},
		{"long name", func() ([]byte, error) {
			return EncodePresence(PresenceBody{TTL: MinPresenceTTL, Name: strings.Repeat("a", MaxNameSize+1)})
		}},
	}
	for _, tt := range tests {
		if _, err := tt.enc(); !errors.Is(err, ErrBadBody) {
			t.Errorf("%s: %v, want ErrBadBody", tt.name, err)
		}
	}
}

func TestDecodeRejectsVersion(t *testing.T) {
	// A chat body of version 2 (field 1 = 2, field 2 = "hi").
	body := []byte{0x08, 0x02, 0x12, 0x02, 'h', 'i'}
	if _, err := DecodeChat(body); !errors.Is(err, ErrBadBody) {
		t.Fatalf("DecodeChat(version 2) = %v, want ErrBadBody", err)
	}
	if _, err := DecodeChat(make([]byte, room.MaxBody+1)); !errors.Is(err, ErrBadBody) {
		t.Fatalf("DecodeChat(oversized) = %v, want ErrBadBody", err)
	}
}

// TestDecodeRejectsName: a signed body whose name could drive or reorder a
// screen is refused on the way in, whatever its kind.
func TestDecodeRejectsName(t *testing.T) {
	for _, name := range []string{"a\x1b[31m", "x\u202e", "\u2066x", strings.Repeat("n", MaxNameSize+1)} {
		chat := must(t)(proto.Marshal(&roomstatepb.Chat{Version: payloadVersion, Text: "hi", Name: name}))
		if _, err := DecodeChat(chat); !errors.Is(err, ErrBadBody) {
			t.Errorf("DecodeChat(name %q) = %v, want ErrBadBody", name, err)
		}
		q := must(t)(proto.Marshal(&roomstatepb.Question{Version: payloadVersion, Text: "q", Name: name}))
		if _, err := DecodeQuestion(q); !errors.Is(err, ErrBadBody) {
			t.Errorf("DecodeQuestion(name %q) = %v, want ErrBadBody", name, err)
		}
		p := must(t)(proto.Marshal(&roomstatepb.Presence{Version: payloadVersion, TtlSeconds: 60, Name: name}))
		if _, err := DecodePresence(p); !errors.Is(err, ErrBadBody) {
			t.Errorf("DecodePresence(name %q) = %v, want ErrBadBody", name, err)
		}
	}
}

// TestTallyPayload: a tally round-trips; one that counts a target twice,
// a zero target, a bad emoji or too many counts is refused both ways.
func TestTallyPayload(t *testing.T) {
	want := TallyBody{Present: 12_000, Counts: []TallyCount{{Target: someID, Count: 900}, {Target: someID, Emoji: "🎉", Count: 40}}}
	got, err := DecodeTally(must(t)(EncodeTally(want)))
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("DecodeTally = %+v, %v", got, err)
	}
	many := TallyBody{}
	for i := range MaxTallyCounts + 1 {
		many.Counts = append(many.Counts, TallyCount{Target: room.MessageID{byte(i + 1)}, Count: 1})
	}
	for name, tb := range map[string]TallyBody{
		"twice":       {Counts: []TallyCount{{Target: someID, Count: 1}, {Target: someID, Count: 2}}},
		"zero target": {Counts: []TallyCount{{Count: 1}}},
		"long emoji":  {Counts: []TallyCount{{Target: someID, Emoji: strings.Repeat("a", MaxEmojiSize+1), Count: 1}}},
		"too many":    many,
	} {
		if _, err := EncodeTally(tb); !errors.Is(err, ErrBadBody) {
			t.Errorf("EncodeTally(%s) = %v, want ErrBadBody", name, err)
		}
		pb := &roomstatepb.Tally{Version: payloadVersion}
		for _, c := range tb.Counts {
			pb.Counts = append(pb.Counts, &roomstatepb.TallyCount{Target: c.Target[:], Emoji: c.Emoji, Count: c.Count})
		}
		if _, err := DecodeTally(must(t)(proto.Marshal(pb))); !errors.Is(err, ErrBadBody) {
			t.Errorf("DecodeTally(%s) = %v, want ErrBadBody", name, err)
		}
	}
}
