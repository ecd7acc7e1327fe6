package ratchet

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/identity"
	"github.com/backchannel/backchannel/crypto/internal/kdf"
	"github.com/backchannel/backchannel/crypto/internal/sessionpb"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/x3dh"
)

const stateVersion = 1

// maxAssociatedData bounds the associated data in a decoded state; x3dh
// makes 4 + len(domain) + 128 bytes.
const maxAssociatedData = 512

// MarshalBinary encodes the whole session, secrets included, for the node's
// store. Persist it in the same transaction as the message that changed it.
func (s *Session) MarshalBinary() ([]byte, error) {
	st := &sessionpb.SessionState{
		Version:            stateVersion,
		LocalIdentity:      s.local.ToProto(),
		RemoteIdentity:     s.remote.ToProto(),
		Initiator:          s.initiator,
		AssociatedData:     s.ad,
		RootKey:            s.rootKey[:],
		SelfRatchetPrivate: s.self.Bytes(),
		SendN:              s.send.n,
		RecvN:              s.recv.n,
		PreviousSendN:      s.pn,
	}
	if !s.remoteDH.IsZero() {
		st.RemoteRatchetKey = s.remoteDH.Bytes()
	}
	if s.send.ok {
		st.SendChainKey = s.send.key[:]
	}
	if s.recv.ok {
		st.RecvChainKey = s.recv.key[:]
	}
	for _, id := range s.skippedOrder {
		mk, ok := s.skipped[id]
		if !ok {
			continue
		}
		st.Skipped = append(st.Skipped, &sessionpb.SkippedKey{RatchetKey: id.dh.Bytes(), N: id.n, MessageKey: mk[:]})
	}
	for _, k := range s.pastRemote {
		st.PastRemoteKeys = append(st.PastRemoteKeys, k.Bytes())
	}
	if s.pendingX3DH != nil {
		st.PendingX3Dh = s.pendingX3DH.ToProto()
	}
	if !s.initiatorEphemeral.IsZero() {
		st.InitiatorEphemeral = s.initiatorEphemeral.Bytes()
	}
	return proto.Marshal(st)
}

// UnmarshalSession decodes a session made by MarshalBinary.
func UnmarshalSession(b []byte) (*Session, error) {
	var st sessionpb.SessionState
	if err := proto.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%w: session state: %w", ErrMalformed, err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("%w: session state version %d", ErrMalformed, st.Version)
	}
	bad := func(what string, err error) (*Session, error) {
		if err != nil {
			return nil, fmt.Errorf("%w: session state: %s: %w", ErrMalformed, what, err)
		}
		return nil, fmt.Errorf("%w: session state: %s", ErrMalformed, what)
	}
	s := &Session{initiator: st.Initiator, skipped: map[skippedID]kdf.Key{}}
	var err error
	if s.local, err = identity.PublicIdentityFromProto(st.LocalIdentity); err != nil {
		return bad("local identity", err)
	}
	if s.remote, err = identity.PublicIdentityFromProto(st.RemoteIdentity); err != nil {
		return bad("remote identity", err)
	}
	if len(st.AssociatedData) == 0 || len(st.AssociatedData) > maxAssociatedData {
		return bad("associated data size", nil)
	}
	s.ad = append([]byte(nil), st.AssociatedData...)
	if !copyKey(&s.rootKey, st.RootKey) {
		return bad("root key", nil)
	}
	self, err := keys.DHPrivateFromBytes(st.SelfRatchetPrivate)
	if err != nil {
		return bad("ratchet key", err)
	}
	s.setSelf(self)
	if len(st.RemoteRatchetKey) > 0 {
		if s.remoteDH, err = keys.DHPublicFromBytes(st.RemoteRatchetKey); err != nil {
			return bad("remote ratchet key", err)
		}
	}
	if len(st.SendChainKey) > 0 {
		if !copyKey(&s.send.key, st.SendChainKey) {
			return bad("sending chain key", nil)
		}
		s.send.ok = true
	}
	if len(st.RecvChainKey) > 0 {
		if !copyKey(&s.recv.key, st.RecvChainKey) {
			return bad("receiving chain key", nil)
		}
		s.recv.ok = true
	}
	s.send.n, s.recv.n, s.pn = st.SendN, st.RecvN, st.PreviousSendN
	if len(st.Skipped) > MaxSkippedKeys {
		return bad(fmt.Sprintf("%d skipped keys", len(st.Skipped)), nil)
	}
	for _, k := range st.Skipped {
		dh, err := keys.DHPublicFromBytes(k.GetRatchetKey())
		if err != nil {
			return bad("skipped key", err)
		}
		var mk kdf.Key
		if !copyKey(&mk, k.GetMessageKey()) {
			return bad("skipped message key", nil)
		}
		id := skippedID{dh, k.GetN()}
		if _, dup := s.skipped[id]; dup {
			return bad("duplicate skipped key", nil)
		}
		s.skipped[id] = mk
		s.skippedOrder = append(s.skippedOrder, id)
	}
	if len(st.PastRemoteKeys) > maxPastRemoteKeys {
		return bad("too many past ratchet keys", nil)
	}
	for _, b := range st.PastRemoteKeys {
		k, err := keys.DHPublicFromBytes(b)
		if err != nil {
			return bad("past ratchet key", err)
		}
		s.pastRemote = append(s.pastRemote, k)
	}
	if st.PendingX3Dh != nil {
		h, err := x3dh.HeaderFromProto(st.PendingX3Dh)
		if err != nil {
			return bad("pending X3DH header", err)
		}
		s.pendingX3DH = &h
	}
	if len(st.InitiatorEphemeral) > 0 {
		if s.initiatorEphemeral, err = keys.DHPublicFromBytes(st.InitiatorEphemeral); err != nil {
			return bad("initiator ephemeral key", err)
		}
	}
	return s, nil
}

func copyKey(dst *kdf.Key, src []byte) bool {
	if len(src) != len(dst) {
		return false
	}
	copy(dst[:], src)
	return true
}
