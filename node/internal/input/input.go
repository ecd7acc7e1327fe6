// Package input checks what the user types before the node sends it: a
// text that is not blank, a reaction that is one emoji, an event that has
// not started yet. Only the local send paths use it: what arrives from
// peers keeps the rules of its protocol, so old messages stay readable.
package input

import (
	"errors"
	"time"
	"unicode"
	"unicode/utf8"
)

// The reasons, in the user's words; callers wrap them in a sentinel of
// package errs.
var (
	ErrBlank    = errors.New("a message cannot be empty or only spaces")
	ErrNotEmoji = errors.New("a reaction is one emoji")
	ErrPast     = errors.New("the event's time has passed")
)

// PastSlack is how far in the past an event's start may be: a clock a
// little behind, or a form filled in slowly, is not refused.
const PastSlack = time.Minute

// Text returns ErrBlank if s is empty or only white space or invisible
// characters (zero-width spaces and joiners, the byte order mark).
func Text(s string) error {
	for _, r := range s {
		if !blank(r) {
			return nil
		}
	}
	return ErrBlank
}

func blank(r rune) bool {
	switch r {
	case 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x180E:
		return true
	}
	return unicode.IsSpace(r) || unicode.Is(unicode.Cc, r)
}

// Start returns ErrPast if an event's start is more than PastSlack before
// now; the zero time (no start) passes.
func Start(start, now time.Time) error {
	if !start.IsZero() && start.Before(now.Add(-PastSlack)) {
		return ErrPast
	}
	return nil
}

// Reaction returns ErrNotEmoji unless s is Emoji.
func Reaction(s string) error {
	if !Emoji(s) {
		return ErrNotEmoji
	}
	return nil
}

// Emoji reports whether s is exactly one emoji, a small form of the emoji
// sequences of Unicode TS #51 that needs no tables:
//
//   - a keycap: 0-9, # or *, an optional U+FE0F, then U+20E3 (1️⃣);
//   - a flag: two regional indicators (🇫🇷);
//   - a tag sequence: U+1F3F4 then tags U+E0020..U+E007E ending in U+E007F
//     (the flags of England, Scotland, Wales);
//   - one or more elements joined by ZWJ (U+200D), each a pictograph
//     followed by an optional variation selector (U+FE0E, U+FE0F) and an
//     optional skin tone modifier (U+1F3FB..U+1F3FF), in any order of the
//     two (👍🏽, ❤️, 👩‍💻, 👨‍👩‍👧).
//
// A pictograph is a code point of the blocks emoji are in (U+1F000..U+1FAFF,
// the symbols and dingbats U+2190..U+2BFF and a few more such as ©, ®, ™):
// letters, digits, punctuation and spaces are not, so a word or a sentence
// is refused. It does not check that a sequence is one Unicode recommends:
// a well-formed one that a font draws as two pictures passes.
func Emoji(s string) bool {
	rs := []rune(s)
	if len(rs) == 0 || !utf8.ValidString(s) {
		return false
	}
	// Keycap.
	if isKeycapBase(rs[0]) {
		rest := rs[1:]
		if len(rest) > 0 && rest[0] == 0xFE0F {
			rest = rest[1:]
		}
		return len(rest) == 1 && rest[0] == 0x20E3
	}
	// Flag.
	if isRegional(rs[0]) {
		return len(rs) == 2 && isRegional(rs[1])
	}
	// Tag sequence.
	if rs[0] == 0x1F3F4 && len(rs) > 2 && isTag(rs[1]) {
		for i, r := range rs[1:] {
			last := i == len(rs)-2
			if last != (r == 0xE007F) || !last && !isTag(r) {
				return false
			}
		}
		return true
	}
	// ZWJ sequence of elements.
	i := 0
	for {
		if i >= len(rs) || !isPictograph(rs[i]) {
			return false
		}
		i++
		var vs, tone bool
	mods:
		for ; i < len(rs); i++ {
			switch r := rs[i]; {
			case (r == 0xFE0F || r == 0xFE0E) && !vs:
				vs = true
			case isSkinTone(r) && !tone:
				tone = true
			default:
				break mods
			}
		}
		if i == len(rs) {
			return true
		}
		if rs[i] != 0x200D {
			return false
		}
		i++
	}
}

func isKeycapBase(r rune) bool { return r >= '0' && r <= '9' || r == '#' || r == '*' }
func isRegional(r rune) bool   { return r >= 0x1F1E6 && r <= 0x1F1FF }
func isTag(r rune) bool        { return r >= 0xE0020 && r <= 0xE007E }
func isSkinTone(r rune) bool   { return r >= 0x1F3FB && r <= 0x1F3FF }

func isPictograph(r rune) bool {
	switch {
	case r >= 0x1F000 && r <= 0x1FAFF:
		return !isRegional(r) && !isSkinTone(r)
	case r >= 0x2190 && r <= 0x21FF, // arrows
		r >= 0x2300 && r <= 0x23FF, // technical: ⌚ ⏰
		r >= 0x25A0 && r <= 0x27BF, // shapes, symbols, dingbats: ☀ ❤ ✅
		r >= 0x2900 && r <= 0x297F, // supplemental arrows
		r >= 0x2B00 && r <= 0x2BFF: // ⬆ ⭐ ⭕
		return true
	}
	switch r {
	case 0x00A9, 0x00AE, 0x203C, 0x2049, 0x2122, 0x2139, 0x24C2, 0x3030, 0x303D, 0x3297, 0x3299:
		return true
	}
	return false
}
