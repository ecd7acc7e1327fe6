package vectors

import (
	"bytes"
	"crypto/sha512"
	"encoding/binary"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/identity"
	"github.com/backchannel/backchannel/crypto/safety"
)

type keysVector struct {
	About      string           `json:"about"`
	Identities []identityVector `json:"identities"`
	Safety     safetyVector     `json:"safety_number"`
}

type identityVector struct {
	Name          string `json:"name"`
	Ed25519Seed   string `json:"ed25519_seed"`
	Ed25519Public string `json:"ed25519_public"`
	PeerIDBytes   string `json:"peer_id_bytes"`
	PeerID        string `json:"peer_id"`
	X25519Private string `json:"x25519_private"`
	X25519Public  string `json:"x25519_public"`
	// The X25519 identity key's binding to the Ed25519 key.
	BindingDomain       string `json:"binding_domain"`
	BindingSignedBytes  string `json:"binding_signed_bytes"`
	BindingSigningInput string `json:"binding_signing_input"`
	BindingSignature    string `json:"binding_signature"`
	PublicIdentity      string `json:"public_identity_encoding"`
}

type safetyVector struct {
	A                  string `json:"a"`
	B                  string `json:"b"`
	LowerKey           string `json:"lower_key"`
	FingerprintLower   string `json:"fingerprint_lower"`
	FingerprintHigher  string `json:"fingerprint_higher"`
	Digits             string `json:"digits"`
	Display            string `json:"display"`
	QR                 string `json:"qr"`
	FingerprintVersion int    `json:"fingerprint_version"`
	Iterations         int    `json:"iterations"`
}

func buildKeys(t *testing.T) any {
	v := keysVector{About: "Fixed identities of every vector: each Ed25519 seed is SHA-256(\"backchannel test vector NAME ed25519\"), " +
		"each X25519 identity private key SHA-256(\"backchannel test vector NAME x25519\"). " +
		"The peer ID is the identity multihash of the libp2p protobuf public key (00 24 08 01 12 20 ‖ key), in base58btc. See docs/PROTOCOL.md, Identities."}
	for _, name := range identityNames {
		id := fixedIdentity(t, name)
		pub := id.Public()
		pid := pub.Key.PeerID()
		if want := cat([]byte{0x00, 0x24, 0x08, 0x01, 0x12, 0x20}, pub.Key[:]); !bytes.Equal([]byte(pid), want) {
			t.Errorf("%s: peer ID bytes %x, documented %x", name, []byte(pid), want)
		}
		if d, err := peer.Decode(pid.String()); err != nil || d != pid {
			t.Errorf("%s: peer ID %s does not parse back", name, pid)
		}
		signed := cat(pub.Key[:], pub.DH[:])
		checkSigned(t, name+" identity binding", id.Signing(), "identity/x25519/v1", signed, pub.Signature)
		must(t, pub.Verify())
		enc, err := pub.MarshalBinary()
		must(t, err)
		back, err := identity.UnmarshalPublicIdentity(enc)
		must(t, err)
		if !back.Equal(pub) {
			t.Errorf("%s: public identity does not decode back", name)
		}
		v.Identities = append(v.Identities, identityVector{
			Name:                name,
			Ed25519Seed:         hx(id.Signing().Seed()),
			Ed25519Public:       hx(pub.Key[:]),
			PeerIDBytes:         hx([]byte(pid)),
			PeerID:              pid.String(),
			X25519Private:       hx(id.DH().Bytes()),
			X25519Public:        hx(pub.DH[:]),
			BindingDomain:       "identity/x25519/v1",
			BindingSignedBytes:  hx(signed),
			BindingSigningInput: hx(signingInput("identity/x25519/v1", signed)),
			BindingSignature:    hx(pub.Signature),
			PublicIdentity:      hx(enc),
		})
	}

	a, b := fixedIdentity(t, "alice").Public().Key, fixedIdentity(t, "bob").Public().Key
	sn, err := safety.Number(a, b)
	must(t, err)
	lower, higher := a, b
	if bytes.Compare(a[:], b[:]) > 0 {
		lower, higher = b, a
	}
	fl, fh := fingerprint(lower[:], []byte(lower.PeerID())), fingerprint(higher[:], []byte(higher.PeerID()))
	if want := digits(fl) + digits(fh); want != sn.Digits() {
		t.Errorf("safety number %s, documented %s", sn.Digits(), want)
	}
	same(t, "safety QR", sn.QR(), cat([]byte{safety.QRVersion}, fl, fh))
	name := "alice"
	if lower == b {
		name = "bob"
	}
	v.Safety = safetyVector{A: "alice", B: "bob", LowerKey: name, FingerprintLower: hx(fl), FingerprintHigher: hx(fh),
		Digits: sn.Digits(), Display: sn.String(), QR: hx(sn.QR()), FingerprintVersion: 0, Iterations: 5200}
	return v
}

// fingerprint is Signal's numeric fingerprint of one identity as
// crypto/safety computes it: SHA-512(version ‖ key ‖ peer ID ‖ key), then
// 5,199 times SHA-512(hash ‖ key); the first 32 bytes.
func fingerprint(key, id []byte) []byte {
	h := sha512.Sum512(cat([]byte{0, 0}, key, id, key))
	for i := 1; i < 5200; i++ {
		h = sha512.Sum512(cat(h[:], key))
	}
	return h[:32]
}

// digits are the 30 digits of a fingerprint: six 5-byte big-endian chunks,
// each mod 100000, five digits each.
func digits(fp []byte) string {
	var out []byte
	for i := 0; i < 6; i++ {
		var b [8]byte
		copy(b[3:], fp[i*5:i*5+5])
		v := binary.BigEndian.Uint64(b[:]) % 100000
		for div := uint64(10000); div > 0; div /= 10 {
			out = append(out, byte('0'+v/div%10))
		}
	}
	return string(out)
}
