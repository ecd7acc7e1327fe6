// Package safename holds the one rule for names people choose and others are
// shown: a profile name, a contact's name, a name in an invite, a room's or a
// group's name. A name is UTF-8 and holds no control character (C0, DEL,
// C1: they drive terminals) and no bidirectional control (they reorder what
// is shown around them, so "gnp.exe" with U+202E reads "exe.png"). Length
// limits stay with each kind of name.
package safename

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// ErrInvalid is what Check's errors wrap; callers wrap their own sentinel
// around it.
var ErrInvalid = errors.New("name has a control character or is not UTF-8")

// IsBidiControl reports whether r is a bidirectional formatting control:
// U+061C, U+200E, U+200F, U+202A to U+202E, U+2066 to U+2069.
func IsBidiControl(r rune) bool {
	return unicode.Is(unicode.Bidi_Control, r)
}

// Forbidden reports whether a name may not hold r: a control character or
// a bidirectional control.
func Forbidden(r rune) bool {
	return unicode.IsControl(r) || IsBidiControl(r)
}

// Check returns nil when s is UTF-8 without a forbidden rune, else an error
// wrapping ErrInvalid that names the first such rune.
func Check(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: not UTF-8", ErrInvalid)
	}
	for _, r := range s {
		if Forbidden(r) {
			kind := "control character"
			if IsBidiControl(r) {
				kind = "bidirectional control"
			}
			return fmt.Errorf("%w: %s %U", ErrInvalid, kind, r)
		}
	}
	return nil
}
