package input

import (
	"errors"
	"testing"
	"time"
)

func TestEmoji(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"👍", true},
		{"👍🏽", true},
		{"❤️", true},
		{"❤", true},
		{"☀️", true},
		{"⭐", true},
		{"👩‍💻", true},
		{"👨‍👩‍👧‍👦", true},
		{"🏳️‍🌈", true},
		{"🧑🏿‍🤝‍🧑🏻", true},
		{"1️⃣", true},
		{"#⃣", true},
		{"🇫🇷", true},
		{"🏴\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F", true},
		{"", false},
		{" ", false},
		{"a", false},
		{"1", false},
		{"ok", false},
		{"great talk!", false},
		{"👍 ", false},
		{" 👍", false},
		{"👍👍", false},
		{"👍a", false},
		{"👍\u200D", false},
		{"\u200D👍", false},
		{"🇫", false},
		{"🇫🇷🇩🇪", false},
		{"🏽", false},
		{"\uFE0F", false},
		{"11⃣", false},
		{"🏴\U000E0067", false},
		{"é", false},
		{"中", false},
		{"\xff", false},
	} {
		if got := Emoji(tc.s); got != tc.want {
			t.Errorf("Emoji(%q) = %v, want %v", tc.s, got, tc.want)
		}
		if err := Reaction(tc.s); (err == nil) != tc.want || err != nil && !errors.Is(err, ErrNotEmoji) {
			t.Errorf("Reaction(%q) = %v", tc.s, err)
		}
	}
}

func TestText(t *testing.T) {
	for _, tc := range []struct {
		s     string
		blank bool
	}{
		{"", true},
		{" ", true},
		{"   \t\n ", true},
		{"\u00A0\u2003", true},
		{"\u200B\uFEFF", true},
		{"hi", false},
		{"  hi  ", false},
		{"👍", false},
		{".", false},
	} {
		if err := Text(tc.s); (err != nil) != tc.blank || err != nil && !errors.Is(err, ErrBlank) {
			t.Errorf("Text(%q) = %v, want blank %v", tc.s, err, tc.blank)
		}
	}
}

func TestStart(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		start time.Time
		past  bool
	}{
		{time.Time{}, false},
		{now.Add(time.Hour), false},
		{now, false},
		{now.Add(-30 * time.Second), false},
		{now.Add(-2 * time.Minute), true},
		{now.AddDate(-1, 0, 0), true},
	} {
		if err := Start(tc.start, now); (err != nil) != tc.past || err != nil && !errors.Is(err, ErrPast) {
			t.Errorf("Start(%v) = %v, want past %v", tc.start, err, tc.past)
		}
	}
}
