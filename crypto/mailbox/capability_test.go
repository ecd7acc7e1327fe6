package mailbox

import (
	"errors"
	"fmt"
	"testing"
)

func TestCapability(t *testing.T) {
	k, s := NewCapabilityKey(), NewLabelSecret()
	a, b := newPeerID(), newPeerID()
	ca := MakeCapability(k, s, a)
	if !k.Check(ca) {
		t.Fatal("A's capability does not check")
	}
	if MakeCapability(k, s, a) != ca {
		t.Error("A's capability changed between two makings")
	}
	cb := MakeCapability(k, s, b)
	if !k.Check(cb) {
		t.Error("B's capability does not check")
	}
	if ca.Label() == cb.Label() {
		t.Error("A and B have the same label")
	}
	// Under another key, the label stays (it is the recipient's pseudonym
	// for A), the MAC does not.
	k2 := NewCapabilityKey()
	if c2 := MakeCapability(k2, s, a); c2.Label() != ca.Label() || c2 == ca {
		t.Error("label should depend on the LabelSecret alone, the MAC on the key")
	}
	if MakeCapability(k, NewLabelSecret(), a).Label() == ca.Label() {
		t.Error("another recipient's LabelSecret gives A the same label")
	}

	tests := []struct {
		name string
		k    CapabilityKey
		c    Capability
	}{
		{"another key", k2, ca},
		{"zero key", CapabilityKey{}, MakeCapability(CapabilityKey{}, s, a)},
		{"label of B, MAC of A", k, func() Capability { c := ca; copy(c[:8], cb[:8]); return c }()},
		{"zero capability", k, Capability{}},
	}
	for i := range CapabilitySize * 8 {
		c := ca
		c[i/8] ^= 1 << (i % 8)
		tests = append(tests, struct {
			name string
			k    CapabilityKey
			c    Capability
		}{fmt.Sprintf("bit %d flipped", i), k, c})
	}
	for _, tc := range tests {
		if tc.k.Check(tc.c) {
			t.Errorf("%s: Check = true", tc.name)
		}
	}
}

func TestCapabilityFromBytes(t *testing.T) {
	c := MakeCapability(NewCapabilityKey(), NewLabelSecret(), newPeerID())
	back, err := CapabilityFromBytes(c[:])
	if err != nil || back != c {
		t.Fatalf("CapabilityFromBytes = %x, %v", back, err)
	}
	for _, n := range []int{0, CapabilitySize - 1, CapabilitySize + 1} {
		if _, err := CapabilityFromBytes(make([]byte, n)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%d bytes: err = %v, want ErrInvalid", n, err)
		}
	}
}

func TestSecretsDoNotPrint(t *testing.T) {
	k, s := NewCapabilityKey(), NewLabelSecret()
	for _, v := range []any{k, s} {
		for _, f := range []string{"%v", "%s", "%#v", "%+v"} {
			if got := fmt.Sprintf(f, v); got != fmt.Sprint(v) || len(got) > 40 {
				t.Errorf("%s prints %q", f, got)
			}
		}
	}
	if NewCapabilityKey() == k || NewLabelSecret() == s {
		t.Error("two random keys are equal")
	}
}
