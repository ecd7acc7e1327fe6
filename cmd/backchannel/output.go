package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/node"
)

// terminalSafe returns s as it is when every rune in it prints as itself,
// and quoted with Go escapes otherwise, so that text a remote peer wrote can
// neither drive the terminal (escape sequences) nor reorder what it shows
// (bidirectional controls).
func terminalSafe(s string) string {
	for _, r := range s {
		if !unicode.IsGraphic(r) || unicode.Is(unicode.Bidi_Control, r) {
			return strconv.QuoteToGraphic(s)
		}
	}
	return s
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

// oneLine shortens s to n runes on one line, for tables.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// who names a peer for people: the given name, else the peer ID.
func who(name, peerID string) string {
	return cmp.Or(name, peerID)
}

func printKV(w io.Writer, rows ...[2]string) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\n", r[0], r[1])
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
		last := oneLine(c.Last.Body, 50)
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
		return fmt.Sprintf("room %q", name)
	}
	return "room " + oneLine(id.String(), 12)
}
