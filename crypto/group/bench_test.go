package group

import (
	"testing"

	"github.com/backchannel/backchannel/crypto/keys"
)

func BenchmarkSeal256(b *testing.B) {
	send := mustSendChain(b, newGroupKey(b), keys.GeneratePrivateKey())
	msg := make([]byte, 256)
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := send.Seal(msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifySignature(b *testing.B) {
	e := mustSeal(b, mustSendChain(b, newGroupKey(b), keys.GeneratePrivateKey()), string(make([]byte, 256)))
	for b.Loop() {
		if err := e.VerifySignature(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpen256 opens messages in order: signature check, one chain step
// and the AEAD. Sealing happens off the clock.
func BenchmarkOpen256(b *testing.B) {
	gk := newGroupKey(b)
	sk := keys.GeneratePrivateKey()
	msg := make([]byte, 256)
	const batch = 1024
	send := mustSendChain(b, gk, sk)
	recv := mustReceiveChain(b, gk, sk.Public())
	envs := make([]*Envelope, 0, batch)
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if len(envs) == 0 {
			b.StopTimer()
			for range batch {
				envs = append(envs, mustSeal(b, send, string(msg)))
			}
			b.StartTimer()
		}
		if _, err := recv.Open(envs[0]); err != nil {
			b.Fatal(err)
		}
		envs = envs[1:]
	}
}

func BenchmarkRosterVerify100(b *testing.B) {
	owner := keys.GeneratePrivateKey()
	id, _ := NewGroup()
	members := []Member{{owner.Public(), RoleOwner}}
	for range 99 {
		members = append(members, Member{keys.GeneratePrivateKey().Public(), RoleMember})
	}
	r0, err := Genesis(owner, id, members)
	if err != nil {
		b.Fatal(err)
	}
	r1, err := r0.Next(owner, members[:99])
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := r1.VerifyFollows(r0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckSender100 is the topic validator's work per message in a
// group of 100: membership and signature.
func BenchmarkCheckSender100(b *testing.B) {
	owner := keys.GeneratePrivateKey()
	id, _ := NewGroup()
	members := []Member{{owner.Public(), RoleOwner}}
	var last keys.PrivateKey
	for range 99 {
		last = keys.GeneratePrivateKey()
		members = append(members, Member{last.Public(), RoleMember})
	}
	r, err := Genesis(owner, id, members)
	if err != nil {
		b.Fatal(err)
	}
	e := mustSeal(b, mustSendChain(b, GroupKey{Group: id, Key: NewEpochKey()}, last), string(make([]byte, 256)))
	for b.Loop() {
		if err := r.CheckSender(e); err != nil {
			b.Fatal(err)
		}
	}
}
