package apitest

import (
	"crypto/ed25519"

	lcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// PeerID returns a valid peer ID derived from n: the same n gives the same
// ID in every run.
func PeerID(n byte) peer.ID {
	seed := make([]byte, ed25519.SeedSize)
	seed[0] = n
	pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
	k, err := lcrypto.UnmarshalEd25519PublicKey(pub)
	if err != nil {
		panic(err)
	}
	id, err := peer.IDFromPublicKey(k)
	if err != nil {
		panic(err)
	}
	return id
}
