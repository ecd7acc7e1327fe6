package bench

import (
	"testing"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/pubsub"
)

// TestRawValidator holds the signed raw baseline to its word: each payload
// is checked, and only the key's own signature of it passes.
func TestRawValidator(t *testing.T) {
	sk := keys.GeneratePrivateKey()
	pk := sk.Public()
	other := keys.GeneratePrivateKey()
	signed := rawLine(7, 200, &sk)
	tampered := append([]byte(nil), signed...)
	tampered[len(tampered)-1] ^= 1
	tests := []struct {
		name string
		pk   *keys.PublicKey
		data []byte
		want pubsub.Result
	}{
		{"unsigned run takes anything", nil, []byte("x"), pubsub.Accept},
		{"signed line", &pk, signed, pubsub.Accept},
		{"tampered line", &pk, tampered, pubsub.Reject},
		{"another key's line", &pk, rawLine(7, 200, &other), pubsub.Reject},
		{"unsigned line", &pk, rawLine(7, 200, nil), pubsub.Reject},
		{"shorter than a signature", &pk, []byte("short"), pubsub.Reject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rawValidator(tt.pk)(t.Context(), "", tt.data); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if len(signed) != 200 || len(rawLine(7, 200, nil)) != 200 {
		t.Errorf("payload sizes %d and %d, want 200", len(signed), len(rawLine(7, 200, nil)))
	}
}
