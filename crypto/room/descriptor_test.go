package room

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room/internal/roompb"
)

func TestDescriptorRoundTrip(t *testing.T) {
	f := newFixture(t)
	if f.desc.Host != f.host.Public() || f.desc.Room != DeriveID(f.host.Public(), f.desc.Nonce) {
		t.Fatal("Sign did not set Host and Room")
	}
	unscheduled := Descriptor{Nonce: NewNonce(), Name: "n", Created: t0}
	if err := unscheduled.Sign(f.host); err != nil {
		t.Fatal(err)
	}
	largest := Descriptor{
		Nonce:       NewNonce(),
		Name:        strings.Repeat("é", MaxNameSize/2),
		Description: strings.Repeat("d", MaxDescriptionSize),
		Start:       time.UnixMilli(1<<62 - 1),
		Created:     time.UnixMilli(1<<62 - 1),
	}
	if err := largest.Sign(f.host); err != nil {
		t.Fatal(err)
	}
	for name, d := range map[string]Descriptor{"scheduled": f.desc, "unscheduled": unscheduled, "largest": largest} {
		enc, err := d.MarshalBinary()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(enc) > MaxDescriptorSize {
			t.Errorf("%s: encoding is %d bytes, over MaxDescriptorSize", name, len(enc))
		}
		back, err := UnmarshalDescriptor(enc)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(back, d) {
			t.Errorf("%s: round trip changed the descriptor:\n got %+v\nwant %+v", name, back, d)
		}
		if err := back.Verify(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestDescriptorTampered(t *testing.T) {
	f := newFixture(t)
	victim := f.desc
	tests := []struct {
		name   string
		change func(d *Descriptor)
		want   error
	}{
		{"untouched", func(*Descriptor) {}, nil},
		{"room bit flipped", func(d *Descriptor) { d.Room[0] ^= 1 }, ErrIDMismatch},
		{"nonce bit flipped", func(d *Descriptor) { d.Nonce[0] ^= 1 }, ErrIDMismatch},
		{"host replaced", func(d *Descriptor) { d.Host = f.mallory.Public() }, ErrIDMismatch},
		{"name changed", func(d *Descriptor) { d.Name = "Ask me nothing" }, ErrBadSignature},
		{"description changed", func(d *Descriptor) { d.Description += "!" }, ErrBadSignature},
		{"start moved", func(d *Descriptor) { d.Start = d.Start.Add(time.Millisecond) }, ErrBadSignature},
		{"start removed", func(d *Descriptor) { d.Start = time.Time{} }, ErrBadSignature},
		{"created moved", func(d *Descriptor) { d.Created = d.Created.Add(time.Hour) }, ErrBadSignature},
		{"signature bit flipped", func(d *Descriptor) { d.Signature[63] ^= 0x10 }, ErrBadSignature},
		{"signature missing", func(d *Descriptor) { d.Signature = [keys.SignatureSize]byte{} }, ErrBadSignature},
		// Mallory claims the victim's room: she can sign only as herself,
		// and the ID names the victim.
		{"mallory signs the victim's room as herself", func(d *Descriptor) {
			d.Host = f.mallory.Public()
			copy(d.Signature[:], f.mallory.Sign(domainDescriptor, d.signedBytes()))
		}, ErrIDMismatch},
		{"mallory signs as the host", func(d *Descriptor) {
			d.Name = "Mallory's room now"
			copy(d.Signature[:], f.mallory.Sign(domainDescriptor, d.signedBytes()))
		}, ErrBadSignature},
		// The host's own signature does not make an underived ID valid.
		{"host signs a room ID not derived from its nonce", func(d *Descriptor) {
			d.Room = f.otherRoom(t)
			copy(d.Signature[:], f.host.Sign(domainDescriptor, d.signedBytes()))
		}, ErrIDMismatch},
		{"zero host", func(d *Descriptor) { d.Host = keys.PublicKey{} }, ErrInvalid},
		{"zero nonce", func(d *Descriptor) { d.Nonce = Nonce{} }, ErrInvalid},
	}
	for _, tc := range tests {
		d := victim
		tc.change(&d)
		wantErr(t, tc.name, d.Verify(), tc.want)
	}
}

func TestDescriptorSignErrors(t *testing.T) {
	host := keys.GeneratePrivateKey()
	tests := []struct {
		name   string
		change func(d *Descriptor)
		want   error
	}{
		{"valid", func(*Descriptor) {}, nil},
		{"name of MaxNameSize bytes", func(d *Descriptor) { d.Name = strings.Repeat("n", MaxNameSize) }, nil},
		{"empty description", func(d *Descriptor) { d.Description = "" }, nil},
		{"empty name", func(d *Descriptor) { d.Name = "" }, ErrInvalid},
		{"name over MaxNameSize", func(d *Descriptor) { d.Name = strings.Repeat("n", MaxNameSize+1) }, ErrTooLarge},
		{"name not UTF-8", func(d *Descriptor) { d.Name = "bad\xff" }, ErrInvalid},
		{"name with a newline", func(d *Descriptor) { d.Name = "two\nlines" }, ErrInvalid},
		{"name with a NUL", func(d *Descriptor) { d.Name = "nul\x00" }, ErrInvalid},
		{"name with C1 control", func(d *Descriptor) { d.Name = "c1\u0085" }, ErrInvalid},
		{"name with bidi override", func(d *Descriptor) { d.Name = "gnp\u202e.exe" }, ErrInvalid},
		{"name with bidi isolate", func(d *Descriptor) { d.Name = "\u2067x\u2069" }, ErrInvalid},
		{"description over MaxDescriptionSize", func(d *Descriptor) { d.Description = strings.Repeat("d", MaxDescriptionSize+1) }, ErrTooLarge},
		{"description not UTF-8", func(d *Descriptor) { d.Description = "\xc3" }, ErrInvalid},
		{"zero nonce", func(d *Descriptor) { d.Nonce = Nonce{} }, ErrInvalid},
		{"no created time", func(d *Descriptor) { d.Created = time.Time{} }, ErrInvalid},
		{"start before 1970", func(d *Descriptor) { d.Start = time.Unix(-100, 0) }, ErrInvalid},
	}
	for _, tc := range tests {
		d := Descriptor{Nonce: NewNonce(), Name: "room", Description: "about", Start: t0, Created: t0}
		tc.change(&d)
		before := d
		err := d.Sign(host)
		wantErr(t, tc.name, err, tc.want)
		if err != nil && d != before {
			t.Errorf("%s: a failed Sign changed the descriptor", tc.name)
		}
	}
	d := Descriptor{Nonce: NewNonce(), Name: "room", Created: t0}
	wantErr(t, "zero private key", d.Sign(keys.PrivateKey{}), ErrInvalid)
}

func TestUnmarshalDescriptorErrors(t *testing.T) {
	f := newFixture(t)
	good, err := f.desc.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		change func(pb *roompb.Descriptor)
		want   error
	}{
		{"valid", func(*roompb.Descriptor) {}, nil},
		{"version 2", func(pb *roompb.Descriptor) { pb.Version = 2 }, ErrVersion},
		{"short room", func(pb *roompb.Descriptor) { pb.Room = pb.Room[:16] }, ErrMalformed},
		{"zero host", func(pb *roompb.Descriptor) { pb.Host = make([]byte, 32) }, ErrMalformed},
		{"short host", func(pb *roompb.Descriptor) { pb.Host = pb.Host[:31] }, ErrMalformed},
		{"long nonce", func(pb *roompb.Descriptor) { pb.Nonce = make([]byte, 32) }, ErrMalformed},
		{"zero nonce", func(pb *roompb.Descriptor) { pb.Nonce = make([]byte, NonceSize) }, ErrInvalid},
		{"no signature", func(pb *roompb.Descriptor) { pb.Signature = nil }, ErrMalformed},
		{"empty name", func(pb *roompb.Descriptor) { pb.Name = "" }, ErrInvalid},
		{"long name", func(pb *roompb.Descriptor) { pb.Name = strings.Repeat("x", MaxNameSize+1) }, ErrTooLarge},
		{"negative start", func(pb *roompb.Descriptor) { pb.StartUnixMs = -1 }, ErrInvalid},
		{"no created time", func(pb *roompb.Descriptor) { pb.CreatedUnixMs = 0 }, ErrInvalid},
	}
	for _, tc := range tests {
		var pb roompb.Descriptor
		if err := proto.Unmarshal(good, &pb); err != nil {
			t.Fatal(err)
		}
		tc.change(&pb)
		enc, err := proto.Marshal(&pb)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		_, err = UnmarshalDescriptor(enc)
		wantErr(t, tc.name, err, tc.want)
	}
	// Protobuf itself refuses a string field that is not UTF-8.
	badName := append([]byte{0x2a, 2}, 'a', 0xff)
	_, err = UnmarshalDescriptor(append(append([]byte(nil), good...), badName...))
	wantErr(t, "name not UTF-8", err, ErrMalformed)
	_, err = UnmarshalDescriptor(make([]byte, MaxDescriptorSize+1))
	wantErr(t, "over MaxDescriptorSize", err, ErrTooLarge)
}
