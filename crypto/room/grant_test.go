package room

import (
	"reflect"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room/internal/roompb"
)

func TestRoleGrantRoundTrip(t *testing.T) {
	f := newFixture(t)
	for _, role := range []Role{RoleSpeaker, RoleModerator} {
		g := RoleGrant{Room: f.room, Grantee: f.alice.Public(), Role: role, IssuedAt: t0, ExpiresAt: t0.Add(MaxGrantLifetime)}
		if err := g.Sign(f.host); err != nil {
			t.Fatal(err)
		}
		enc, err := g.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if len(enc) > MaxGrantSize {
			t.Errorf("%s: encoding is %d bytes, over MaxGrantSize", role, len(enc))
		}
		back, err := UnmarshalRoleGrant(enc)
		if err != nil {
			t.Fatal(err)
		}
		if back != g {
			t.Errorf("%s: round trip changed the grant:\n got %+v\nwant %+v", role, back, g)
		}
		if err := back.Verify(f.host.Public(), f.room, t0); err != nil {
			t.Errorf("%s: %v", role, err)
		}
		// A grant fits a message body, which is how it travels.
		m := Message{Room: f.room, Kind: KindRoleGrant, Seq: 1, Timestamp: t0, Body: enc}
		if err := m.Sign(f.host); err != nil {
			t.Errorf("%s: grant does not fit a message: %v", role, err)
		}
	}
}

// resign returns g signed by sk over its fields as they are, bypassing Sign's
// checks, as a forger or a buggy host would.
func resign(g RoleGrant, sk keys.PrivateKey) RoleGrant {
	copy(g.Signature[:], sk.Sign(domainGrant, g.signedBytes()))
	return g
}

func TestRoleGrantVerify(t *testing.T) {
	f := newFixture(t)
	g := f.grant(t) // issued at t0, expires a day later
	host := f.host.Public()
	other := f.otherRoom(t)
	tests := []struct {
		name  string
		grant RoleGrant
		host  keys.PublicKey
		room  ID
		now   time.Time
		want  error
	}{
		{"valid at issue", g, host, f.room, t0, nil},
		{"valid just before expiry", g, host, f.room, g.ExpiresAt.Add(-time.Millisecond), nil},
		{"expired at expiry", g, host, f.room, g.ExpiresAt, ErrExpired},
		{"expired later", g, host, f.room, g.ExpiresAt.Add(time.Hour), ErrExpired},
		{"issued within clock skew", g, host, f.room, t0.Add(-MaxClockSkew), nil},
		{"issued in the future", g, host, f.room, t0.Add(-MaxClockSkew - time.Millisecond), ErrNotYetValid},
		{"for another room", g, host, other, t0, ErrWrongRoom},
		{"room rewritten to another room", func() RoleGrant { h := g; h.Room = other; return h }(), host, other, t0, ErrBadSignature},
		{"signed by a non-host", resign(g, f.mallory), host, f.room, t0, ErrBadSignature},
		{"self-granted by the grantee", resign(g, f.alice), host, f.room, t0, ErrBadSignature},
		{"verified against another host", g, f.mallory.Public(), f.room, t0, ErrBadSignature},
		{"zero host", g, keys.PublicKey{}, f.room, t0, ErrInvalid},
		{"zero now", g, host, f.room, time.Time{}, ErrInvalid},
		{"absurd lifetime", resign(func() RoleGrant { h := g; h.ExpiresAt = t0.AddDate(100, 0, 0); return h }(), f.host), host, f.room, t0, ErrLifetime},
		{"lifetime just over the max", resign(func() RoleGrant { h := g; h.ExpiresAt = t0.Add(MaxGrantLifetime + time.Millisecond); return h }(), f.host), host, f.room, t0, ErrLifetime},
		{"expires before issue", resign(func() RoleGrant { h := g; h.IssuedAt, h.ExpiresAt = h.ExpiresAt, h.IssuedAt; return h }(), f.host), host, f.room, t0, ErrLifetime},
		{"expires at issue", resign(func() RoleGrant { h := g; h.ExpiresAt = h.IssuedAt; return h }(), f.host), host, f.room, t0, ErrLifetime},
		{"unknown role", resign(func() RoleGrant { h := g; h.Role = 9; return h }(), f.host), host, f.room, t0, ErrUnknownRole},
		{"zero grantee", resign(func() RoleGrant { h := g; h.Grantee = keys.PublicKey{}; return h }(), f.host), host, f.room, t0, ErrInvalid},
		{"unsigned", func() RoleGrant { h := g; h.Signature = [keys.SignatureSize]byte{}; return h }(), host, f.room, t0, ErrBadSignature},
	}
	for _, tc := range tests {
		wantErr(t, tc.name, tc.grant.Verify(tc.host, tc.room, tc.now), tc.want)
	}
}

func TestRoleGrantTampered(t *testing.T) {
	f := newFixture(t)
	orig := f.grant(t)
	tests := []struct {
		name   string
		change func(g *RoleGrant)
	}{
		{"grantee replaced", func(g *RoleGrant) { g.Grantee = f.mallory.Public() }},
		{"grantee bit flipped", func(g *RoleGrant) { g.Grantee = otherKey(g.Grantee) }},
		{"role changed", func(g *RoleGrant) { g.Role = RoleSpeaker }},
		{"issued earlier", func(g *RoleGrant) { g.IssuedAt = g.IssuedAt.Add(-time.Millisecond) }},
		{"expiry extended", func(g *RoleGrant) { g.ExpiresAt = g.ExpiresAt.Add(time.Millisecond) }},
		{"signature bit flipped", func(g *RoleGrant) { g.Signature[5] ^= 4 }},
	}
	for _, tc := range tests {
		g := orig
		tc.change(&g)
		wantErr(t, tc.name, g.Verify(f.host.Public(), f.room, t0), ErrBadSignature)
	}
}

func TestRoleGrantSignErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name   string
		change func(g *RoleGrant)
		want   error
	}{
		{"valid", func(*RoleGrant) {}, nil},
		{"lifetime of MaxGrantLifetime", func(g *RoleGrant) { g.ExpiresAt = g.IssuedAt.Add(MaxGrantLifetime) }, nil},
		{"lifetime over MaxGrantLifetime", func(g *RoleGrant) { g.ExpiresAt = g.IssuedAt.Add(MaxGrantLifetime + time.Second) }, ErrLifetime},
		{"expires before issue", func(g *RoleGrant) { g.ExpiresAt = g.IssuedAt.Add(-time.Second) }, ErrLifetime},
		{"lifetime under a millisecond", func(g *RoleGrant) { g.ExpiresAt = g.IssuedAt.Add(time.Microsecond) }, ErrLifetime},
		{"unknown role", func(g *RoleGrant) { g.Role = 0 }, ErrUnknownRole},
		{"zero room", func(g *RoleGrant) { g.Room = ID{} }, ErrInvalid},
		{"zero grantee", func(g *RoleGrant) { g.Grantee = keys.PublicKey{} }, ErrInvalid},
		{"no issue time", func(g *RoleGrant) { g.IssuedAt = time.Time{} }, ErrInvalid},
		{"no expiry", func(g *RoleGrant) { g.ExpiresAt = time.Time{} }, ErrInvalid},
	}
	for _, tc := range tests {
		g := RoleGrant{Room: f.room, Grantee: f.alice.Public(), Role: RoleSpeaker, IssuedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		tc.change(&g)
		before := g
		err := g.Sign(f.host)
		wantErr(t, tc.name, err, tc.want)
		if err != nil && !reflect.DeepEqual(g, before) {
			t.Errorf("%s: a failed Sign changed the grant", tc.name)
		}
	}
	g := RoleGrant{Room: f.room, Grantee: f.alice.Public(), Role: RoleSpeaker, IssuedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	wantErr(t, "zero private key", g.Sign(keys.PrivateKey{}), ErrInvalid)
}

func TestUnmarshalRoleGrantErrors(t *testing.T) {
	f := newFixture(t)
	good, err := f.grant(t).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		change func(pb *roompb.RoleGrant)
		want   error
	}{
		{"valid", func(*roompb.RoleGrant) {}, nil},
		{"version 0", func(pb *roompb.RoleGrant) { pb.Version = 0 }, ErrVersion},
		{"role 0", func(pb *roompb.RoleGrant) { pb.Role = 0 }, ErrUnknownRole},
		{"role 3", func(pb *roompb.RoleGrant) { pb.Role = 3 }, ErrUnknownRole},
		{"role 257 (speaker if wrapped to a byte)", func(pb *roompb.RoleGrant) { pb.Role = 257 }, ErrUnknownRole},
		{"zero room", func(pb *roompb.RoleGrant) { pb.Room = make([]byte, 32) }, ErrMalformed},
		{"short grantee", func(pb *roompb.RoleGrant) { pb.Grantee = pb.Grantee[:1] }, ErrMalformed},
		{"long signature", func(pb *roompb.RoleGrant) { pb.Signature = append(pb.Signature, 1) }, ErrMalformed},
		{"no issue time", func(pb *roompb.RoleGrant) { pb.IssuedAtUnixMs = 0 }, ErrInvalid},
		{"negative expiry", func(pb *roompb.RoleGrant) { pb.ExpiresAtUnixMs = -1 }, ErrInvalid},
		{"absurd lifetime", func(pb *roompb.RoleGrant) { pb.ExpiresAtUnixMs = 1<<63 - 1 }, ErrLifetime},
		{"expires before issue", func(pb *roompb.RoleGrant) { pb.ExpiresAtUnixMs = pb.IssuedAtUnixMs - 1 }, ErrLifetime},
	}
	for _, tc := range tests {
		var pb roompb.RoleGrant
		if err := proto.Unmarshal(good, &pb); err != nil {
			t.Fatal(err)
		}
		tc.change(&pb)
		enc, err := proto.Marshal(&pb)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		_, err = UnmarshalRoleGrant(enc)
		wantErr(t, tc.name, err, tc.want)
	}
	_, err = UnmarshalRoleGrant(make([]byte, MaxGrantSize+1))
	wantErr(t, "over MaxGrantSize", err, ErrTooLarge)
}
