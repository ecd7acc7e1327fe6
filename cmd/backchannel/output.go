package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/crypto/safename"
	"github.com/backchannel/backchannel/node"
)

// sanitize returns s for a terminal: printable text as it is, and each rune
// that could drive the terminal or reorder what it shows made visible in its
// place. C0 and C1 controls and DEL read as Go escapes ("\n", "\t", "\r",
// else "\x1b", "\x7f", "\u009b"), bidirectional controls and the line and paragraph separators
// as their code point ("U+202E"), bytes that are not UTF-8 as "\xff". Every
// text a peer wrote or named goes through it before it is printed; --json
// output does not (JSON escapes controls itself, and is for programs).
func sanitize(s string) string {
	if !needsSanitizing(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x80 && unicode.IsControl(r): // C0, DEL
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.IsControl(r): // C1
			fmt.Fprintf(&b, `\u%04x`, r)
		case visibleCodePoint(r):
			fmt.Fprintf(&b, "%U", r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func needsSanitizing(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || visibleCodePoint(r) {
			return true
		}
	}
	return false
}

// visibleCodePoint: the runes sanitize writes as "U+XXXX", the bidirectional
// controls (safename's) and the line and paragraph separators.
func visibleCodePoint(r rune) bool {
	return safename.IsBidiControl(r) || r == '\u2028' || r == '\u2029'
}

// printJSON writes v indented, as the API would answer it.
func (a *app) printJSON(v any) error {
	return a.jsonEncoder("  ").Encode(v)
}

func (a *app) jsonEncoder(indent string) *json.Encoder {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", indent)
	enc.SetEscapeHTML(false) // invite links hold "&"
	return enc
}

// table returns a tab-aligned writer; Flush it.
func (a *app) table() *tabwriter.Writer {
	return tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
}

// timeFormat is how the CLI shows times, in local time.
const timeFormat = "2006-01-02 15:04"

func showTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Local().Format(timeFormat)
}

// showState is a message's state for people: "in mailbox" for
// "in_mailbox" (held by the recipient's mailbox until they come online);
// the others read as they are. --json keeps the API's form.
func showState(s string) string {
	return strings.ReplaceAll(s, "_", " ")
}

// oneLine shortens s to n runes on one line, for tables, sanitized.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		s = string(r[:n-1]) + "…"
	}
	return sanitize(s)
}

// who names a peer for people: the given name, else the peer ID, sanitized.
func who(name, peerID string) string {
	return sanitize(cmp.Or(name, peerID))
}

// printKV prints rows of a key and a value, aligned. A value is sanitized
// (names in it may be a peer's); "\n\t" in it starts an indented line.
func printKV(w io.Writer, rows ...[2]string) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, r := range rows {
		lines := strings.Split(r[1], "\n\t")
		for i, l := range lines {
			lines[i] = sanitize(l)
		}
		fmt.Fprintf(tw, "%s\t%s\n", r[0], strings.Join(lines, "\n\t"))
	}
	tw.Flush()
}

func (a *app) printConversations(cs []api.Conversation, empty string) error {
	return a.printConversationsFrom(cs, empty, nil)
}

// printConversationsFrom prints conversations with a FROM column when any
// came with a context (a request from a room); roomNames names the rooms.
func (a *app) printConversationsFrom(cs []api.Conversation, empty string, roomNames map[string]string) error {
	if a.json {
		return a.printJSON(api.Conversations{Conversations: cs})
	}
	if len(cs) == 0 {
		fmt.Fprintln(a.stdout, empty)
		return nil
	}
	from := slices.ContainsFunc(cs, func(c api.Conversation) bool { return c.Origin != "" })
	tw := a.table()
	head := "PEER\tUNREAD\tMESSAGES\tUPDATED\tLAST"
	if from {
		head += "\tFROM"
	}
	fmt.Fprintln(tw, head)
	for _, c := range cs {
		last := oneLine(c.Last.Text, 50)
		if c.Last.Direction == "outbound" {
			last = "you: " + last
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s", who(c.Name, c.PeerID), c.Unread, c.Count, showTime(c.Updated), last)
		if from {
			fmt.Fprintf(tw, "\t%s", describeOrigin(c.Origin, roomNames))
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// describeOrigin turns a context such as "room:<id>" into words.
func describeOrigin(origin string, roomNames map[string]string) string {
	id, ok := node.RoomFromContext(origin)
	if !ok {
		return oneLine(origin, 40)
	}
	if name := roomNames[id.String()]; name != "" {
		return fmt.Sprintf("room %q", name) // %q escapes what sanitize would
	}
	return "room " + oneLine(id.String(), 12)
}
