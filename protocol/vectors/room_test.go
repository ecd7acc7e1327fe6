package vectors

import (
	"crypto/sha256"
	"encoding/base32"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"

	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node/rooms"
)

type roomVector struct {
	About       string   `json:"about"`
	Host        keyRef   `json:"host"`
	Nonce       string   `json:"nonce"`
	IDLabel     string   `json:"id_label"`
	IDPreimage  string   `json:"id_preimage"`
	RoomID      string   `json:"room_id"`
	RoomIDText  string   `json:"room_id_text"`
	Topic       string   `json:"topic"`
	Descriptor  descVec  `json:"descriptor"`
	DHTByID     dhtKey   `json:"dht_key_by_id"`
	DHTByName   dhtKey   `json:"dht_key_by_name"`
	NameLookups []string `json:"names_with_the_same_key"`
}

type descVec struct {
	Name          string `json:"name"`
	Description   string `json:"description"`
	Start         string `json:"start"`
	StartUnixMs   int64  `json:"start_unix_ms"`
	Created       string `json:"created"`
	CreatedUnixMs int64  `json:"created_unix_ms"`
	Domain        string `json:"domain"`
	SignedBytes   string `json:"signed_bytes"`
	SigningInput  string `json:"signing_input"`
	Signature     string `json:"signature"`
	Encoding      string `json:"encoding"`
}

type dhtKey struct {
	Preimage  string `json:"preimage,omitempty"`
	Multihash string `json:"multihash"`
	CIDBytes  string `json:"cid_bytes"`
	CID       string `json:"cid"`
}

// Room inputs: the host's room of the vectors.
var (
	roomNonce       = room.Nonce{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}
	roomName        = "Vector Room"
	roomDescription = "Test vectors for clients of Backchannel's live rooms."
	roomStart       = time.Date(2026, 3, 1, 18, 0, 0, 0, time.UTC)
	roomCreated     = time.Date(2026, 2, 20, 11, 59, 30, 123_000_000, time.UTC)
)

// vectorRoom is the signed descriptor of the vectors' room.
func vectorRoom(t *testing.T) room.Descriptor {
	t.Helper()
	d := room.Descriptor{Nonce: roomNonce, Name: roomName, Description: roomDescription, Start: roomStart, Created: roomCreated}
	must(t, d.Sign(fixedIdentity(t, "host").Signing()))
	return d
}

func buildRoom(t *testing.T) any {
	host := fixedIdentity(t, "host")
	d := vectorRoom(t)
	hk := host.Public().Key
	pre := cat(cstr("backchannel/room/id/v1"), hk[:], roomNonce[:])
	id := sha256.Sum256(pre)
	same(t, "room ID", d.Room[:], id[:])
	text := base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding).EncodeToString(id[:])
	if d.Room.String() != text {
		t.Errorf("room ID text %s, documented %s", d.Room, text)
	}
	if p, err := room.ParseID(strings.ToUpper(text)); err != nil || p != d.Room {
		t.Errorf("room ID in upper case does not parse: %v", err)
	}
	topic := rooms.Topic(d.Room)
	if topic != "/backchannel/room/"+text {
		t.Errorf("topic %s", topic)
	}
	signed := cat(d.Room[:], hk[:], roomNonce[:], cstr(d.Name), cstr(d.Description), i64(ms(roomStart)), i64(ms(roomCreated)))
	checkSigned(t, "descriptor", host.Signing(), "room/descriptor/v1", signed, d.Signature[:])
	enc, err := d.MarshalBinary()
	must(t, err)
	back, err := room.UnmarshalDescriptor(enc)
	must(t, err)
	must(t, back.Verify())

	byID := rooms.DHTKey(d.Room)
	mhID, err := mh.Sum(d.Room[:], mh.SHA2_256, -1)
	must(t, err)
	checkCID(t, "by ID", byID, mhID)
	namePre := []byte("backchannel/room-name/v1\x00" + strings.ToLower(strings.TrimSpace(roomName)))
	nameSum := sha256.Sum256(namePre)
	mhName, err := mh.Encode(nameSum[:], mh.SHA2_256)
	must(t, err)
	byName := rooms.NameDHTKey(roomName)
	checkCID(t, "by name", byName, mhName)
	lookups := []string{"vector room", "  VECTOR ROOM  "}
	for _, n := range lookups {
		if !rooms.NameDHTKey(n).Equals(byName) {
			t.Errorf("name %q has another DHT key", n)
		}
	}

	return roomVector{
		About: "A room's ID, topic, host-signed descriptor and DHT keys. See docs/PROTOCOL.md, Rooms. " +
			"The ID is SHA-256(id_label as 4-byte big-endian length ‖ label, host key, nonce); its text form is RFC 4648 base32, " +
			"lower case, no padding.",
		Host: refOf(t, "host"), Nonce: hx(roomNonce[:]),
		IDLabel: "backchannel/room/id/v1", IDPreimage: hx(pre), RoomID: hx(id[:]), RoomIDText: text, Topic: topic,
		Descriptor: descVec{
			Name: d.Name, Description: d.Description,
			Start: rfc(roomStart), StartUnixMs: ms(roomStart), Created: rfc(roomCreated), CreatedUnixMs: ms(roomCreated),
			Domain: "room/descriptor/v1", SignedBytes: hx(signed), SigningInput: hx(signingInput("room/descriptor/v1", signed)),
			Signature: hx(d.Signature[:]), Encoding: hx(enc),
		},
		DHTByID:     dhtKey{Multihash: hx(mhID), CIDBytes: hx(byID.Bytes()), CID: byID.String()},
		DHTByName:   dhtKey{Preimage: hx(namePre), Multihash: hx(mhName), CIDBytes: hx(byName.Bytes()), CID: byName.String()},
		NameLookups: lookups,
	}
}

// checkCID checks a DHT key is the CIDv1, codec raw (0x55), of multihash.
func checkCID(t *testing.T, what string, c cid.Cid, multihash []byte) {
	t.Helper()
	if c.Version() != 1 || c.Type() != cid.Raw {
		t.Errorf("DHT key %s: CID version %d, codec %#x", what, c.Version(), c.Type())
	}
	same(t, "DHT key "+what, c.Bytes(), cat([]byte{0x01, 0x55}, multihash))
}
