package api

import (
	"fmt"
	"net/http"

	qrcode "github.com/skip2/go-qrcode"
)

// qrSize is the side of the invite's QR code, in pixels.
const qrSize = 320

// inviteQR serves GET /v1/id/qr.png: the node's invite link as a QR code.
// It is made here, in Go (github.com/skip2/go-qrcode: small, no
// dependencies, writes PNG), so the UI needs no script of its own for it.
// Like every /v1 endpoint it needs credentials: the UI fetches it with its
// session and shows it from a blob: URL.
func (s *Server) inviteQR(w http.ResponseWriter, r *http.Request) {
	link := s.cfg.Backend.Identity.Self().Invite
	png, err := qrcode.Encode(link, qrcode.Medium, qrSize)
	if err != nil {
		// A long address list can overflow the medium level's capacity.
		png, err = qrcode.Encode(link, qrcode.Low, qrSize)
	}
	if err != nil {
		s.fail(w, r, fmt.Errorf("qr code of the invite: %w", err))
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write(png)
}
