package nodeapi

import (
	"time"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/node"
	"github.com/backchannel/backchannel/storage"
)

// Conversions of identity, contacts and 1:1 messages. Times are UTC, left
// out when not known; empty lists are [] in JSON, not null.

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func selfJSON(s node.SelfInfo) api.Self {
	return api.Self{PeerID: s.PeerID.String(), Name: s.Name, Addrs: nonNil(s.Addrs), Invite: s.Invite}
}

func statusJSON(s node.Status) api.Status {
	st := api.Status{
		PeerID:           s.PeerID.String(),
		ConnectedPeers:   s.ConnectedPeers,
		DHTMode:          s.DHTMode,
		RoutingTableSize: s.RoutingTableSize,
		Reachability:     s.Reachability,
		ListenAddrs:      nonNil(s.ListenAddrs),
		ObservedAddrs:    nonNil(s.ObservedAddrs),
		Relays:           []string{},
		Links:            []api.Link{},
		OutboxPending:    s.OutboxPending,
		Refused:          s.Refused,
		Topics:           []api.TopicStatus{},
	}
	for _, t := range s.Topics {
		ts := api.TopicStatus{Kind: t.Kind, Name: t.Name, Peers: t.Peers, MeshPeers: t.MeshPeers, LowestScores: []api.PeerScore{}}
		for _, ps := range t.Lowest {
			ts.LowestScores = append(ts.LowestScores, api.PeerScore{PeerID: ps.Peer.String(), Score: ps.Score})
		}
		st.Topics = append(st.Topics, ts)
	}
	for _, r := range s.Relays {
		st.Relays = append(st.Relays, r.String())
	}
	for _, l := range s.Links {
		st.Links = append(st.Links, api.Link{PeerID: l.Peer.String(), Name: l.Name, Kind: l.Kind, HolePunched: l.HolePunched})
	}
	return st
}

// contactState is a contact's state in the API's words: a stranger whose
// request is not accepted is "pending", not "unknown".
func contactState(s storage.ContactState) string {
	if s == storage.ContactUnknown {
		return api.ContactPending
	}
	return s.String()
}

func contactJSON(c storage.Contact) api.Contact {
	return api.Contact{
		PeerID:      c.Peer.String(),
		State:       contactState(c.State),
		Name:        c.Name,
		ProfileName: c.ProfileName,
		Addrs:       nonNil(c.Addrs),
		Verified:    c.Verified,
		Origin:      c.Origin,
		Created:     optTime(c.Created),
		Updated:     optTime(c.Updated),
	}
}

func messageJSON(m storage.Message) api.Message {
	j := api.Message{
		ID:        m.ID.String(),
		PeerID:    m.Peer.String(),
		Direction: m.Direction.String(),
		Kind:      m.Kind,
		Text:      m.Body,
		Sent:      optTime(m.Sent),
		Received:  optTime(m.Received),
		State:     m.State.String(),
		Context:   m.Context,
	}
	if !m.ReplyTo.IsZero() {
		j.ReplyTo = m.ReplyTo.String()
	}
	return j
}

// conversationJSON leaves Name and Origin to the API, which has the
// contacts.
func conversationJSON(c storage.Conversation) api.Conversation {
	return api.Conversation{
		PeerID:  c.Peer.String(),
		Last:    messageJSON(c.Last),
		Count:   c.Count,
		Unread:  c.Unread,
		Updated: optTime(c.Updated),
	}
}
