package keys

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RFC 7748, section 6.1.
func TestX25519RFC7748(t *testing.T) {
	alice, err := DHPrivateFromBytes(unhex(t, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"))
	if err != nil {
		t.Fatal(err)
	}
	bob, err := DHPrivateFromBytes(unhex(t, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"alice public", alice.Public().Bytes(), "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"},
		{"bob public", bob.Public().Bytes(), "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"},
	}
	ab, err := alice.DH(bob.Public())
	if err != nil {
		t.Fatal(err)
	}
	ba, err := bob.DH(alice.Public())
	if err != nil {
		t.Fatal(err)
	}
	shared := "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
	tests = append(tests,
		struct {
			name string
			got  []byte
			want string
		}{"alice shared", ab[:], shared},
		struct {
			name string
			got  []byte
			want string
		}{"bob shared", ba[:], shared})
	for _, tc := range tests {
		if got := hex.EncodeToString(tc.got); got != tc.want {
			t.Errorf("%s = %s, want %s", tc.name, got, tc.want)
		}
	}
}

// RFC 7748, section 5.2: one scalar multiplication.
func TestX25519RFC7748ScalarMult(t *testing.T) {
	k, err := DHPrivateFromBytes(unhex(t, "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"))
	if err != nil {
		t.Fatal(err)
	}
	u, err := DHPublicFromBytes(unhex(t, "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := k.DH(u)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := hex.EncodeToString(out[:]), "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"; got != want {
		t.Errorf("X25519 = %s, want %s", got, want)
	}
}

func TestX25519LowOrderRejected(t *testing.T) {
	k := GenerateDH()
	// u = 1 is a point of small order: the shared secret would be all zeroes.
	var one DHPublic
	one[0] = 1
	if _, err := k.DH(one); !errors.Is(err, ErrLowOrder) {
		t.Fatalf("DH with low-order point: err = %v, want ErrLowOrder", err)
	}
}

// RFC 8032, section 7.1, tests 1 to 3: through the libp2p key that is the identity.
func TestEd25519RFC8032(t *testing.T) {
	tests := []struct{ seed, pub, msg, sig string }{
		{
			"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
			"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
			"",
			"e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
		},
		{
			"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
			"3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
			"72",
			"92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
		},
		{
			"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
			"fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
			"af82",
			"6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
		},
	}
	for i, tc := range tests {
		t.Run(fmt.Sprint(i+1), func(t *testing.T) {
			sk, err := PrivateKeyFromSeed(unhex(t, tc.seed))
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(sk.Public().Bytes()); got != tc.pub {
				t.Errorf("public = %s, want %s", got, tc.pub)
			}
			sig, err := sk.Libp2p().Sign(unhex(t, tc.msg))
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(sig); got != tc.sig {
				t.Errorf("signature = %s, want %s", got, tc.sig)
			}
			ok, err := sk.Public().Libp2p().Verify(unhex(t, tc.msg), unhex(t, tc.sig))
			if err != nil || !ok {
				t.Errorf("RFC signature does not verify: %v", err)
			}
			back, err := PrivateKeyFromLibp2p(sk.Libp2p())
			if err != nil || back.Public() != sk.Public() {
				t.Errorf("libp2p round trip changed the key: %v", err)
			}
		})
	}
}

func TestSignDomainSeparation(t *testing.T) {
	sk := GeneratePrivateKey()
	pk := sk.Public()
	msg := []byte("hello")
	sig := sk.Sign("test/a", msg)
	tests := []struct {
		name   string
		domain string
		msg    []byte
		sig    []byte
		want   bool
	}{
		{"same domain", "test/a", msg, sig, true},
		{"other domain", "test/b", msg, sig, false},
		{"domain shifted into message", "test/", append([]byte("a"), msg...), sig, false},
		{"other message", "test/a", []byte("hellO"), sig, false},
		{"short signature", "test/a", msg, sig[:63], false},
		{"raw signature without domain", "test/a", msg, mustSign(t, sk, msg), false},
	}
	for _, tc := range tests {
		if got := pk.Verify(tc.domain, tc.msg, tc.sig); got != tc.want {
			t.Errorf("%s: Verify = %v, want %v", tc.name, got, tc.want)
		}
	}
	if (PublicKey{}).Verify("test/a", msg, sig) {
		t.Error("zero key verified a signature")
	}
}

func mustSign(t *testing.T, sk PrivateKey, msg []byte) []byte {
	sig, err := sk.Libp2p().Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func TestPeerIDRoundTrip(t *testing.T) {
	sk := GeneratePrivateKey()
	id := sk.Public().PeerID()
	pk, err := PublicKeyFromPeerID(id)
	if err != nil {
		t.Fatal(err)
	}
	if pk != sk.Public() {
		t.Fatal("peer ID round trip changed the key")
	}
	if pk.String() != id.String() {
		t.Errorf("String = %q, want the peer ID %q", pk.String(), id)
	}
}

// TestPeerIDMatchesLibp2p holds PeerID and PublicKeyFromPeerID, which
// build and read the peer ID's bytes directly, to go-libp2p's own functions.
func TestPeerIDMatchesLibp2p(t *testing.T) {
	for range 200 {
		pk := GeneratePrivateKey().Public()
		want, err := peer.IDFromPublicKey(pk.Libp2p())
		if err != nil {
			t.Fatal(err)
		}
		if got := pk.PeerID(); got != want {
			t.Fatalf("PeerID = %x, libp2p says %x", []byte(got), []byte(want))
		}
		back, err := PublicKeyFromPeerID(want)
		if err != nil || back != pk {
			t.Fatalf("PublicKeyFromPeerID(%s) = %x, %v; want %x", want, back, err, pk)
		}
	}
}

// FuzzPublicKeyFromPeerID: for any bytes, the direct path gives what
// go-libp2p's extraction gives (the same key, or an error for both).
func FuzzPublicKeyFromPeerID(f *testing.F) {
	f.Add([]byte(GeneratePrivateKey().Public().PeerID()))
	f.Add([]byte(peerIDPrefix + string(make([]byte, PublicKeySize))))
	f.Add([]byte(peerIDPrefix))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, gotErr := PublicKeyFromPeerID(peer.ID(b))
		var want PublicKey
		lk, wantErr := peer.ID(b).ExtractPublicKey()
		if wantErr == nil {
			want, wantErr = PublicKeyFromLibp2p(lk)
		}
		if (gotErr == nil) != (wantErr == nil) || got != want {
			t.Fatalf("PublicKeyFromPeerID(%x) = %x, %v; libp2p: %x, %v", b, got, gotErr, want, wantErr)
		}
	})
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"short identity", err1(PublicKeyFromBytes(make([]byte, 31))), ErrKeySize},
		{"zero identity", err1(PublicKeyFromBytes(make([]byte, 32))), ErrZeroKey},
		{"long dh public", err1(DHPublicFromBytes(make([]byte, 33))), ErrKeySize},
		{"zero dh public", err1(DHPublicFromBytes(make([]byte, 32))), ErrZeroKey},
		{"zero dh private", err1(DHPrivateFromBytes(make([]byte, 32))), ErrZeroKey},
		{"short seed", err1(PrivateKeyFromSeed(make([]byte, 8))), ErrKeySize},
	}
	for _, tc := range tests {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, tc.err, tc.want)
		}
	}
}

func err1[T any](_ T, err error) error { return err }

func TestStringsHideSecrets(t *testing.T) {
	sk := GeneratePrivateKey()
	dh := GenerateDH()
	for _, s := range []string{
		sk.String(), fmt.Sprintf("%v", sk), fmt.Sprintf("%+v", sk), fmt.Sprintf("%#v", sk),
		dh.String(), fmt.Sprintf("%v", dh), fmt.Sprintf("%+v", dh), fmt.Sprintf("%#v", dh),
	} {
		for _, secret := range [][]byte{sk.Seed(), dh.Bytes()} {
			if strings.Contains(s, hex.EncodeToString(secret)) || bytes.Contains([]byte(s), secret) {
				t.Errorf("%q prints a secret", s)
			}
		}
	}
}
