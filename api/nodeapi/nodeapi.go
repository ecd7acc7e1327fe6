// Package nodeapi adapts *node.Node to api's interfaces: it is the one
// place where the node's types (and its storage and roomstate types)
// become api's, and the node's errors api's sentinels. It converts only;
// the behaviour is the node's.
package nodeapi

import (
	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/node"
)

// adapter serves every api interface from one node.
type adapter struct{ n *node.Node }

// New returns the api.Backend that serves n.
func New(n *node.Node) api.Backend {
	a := adapter{n: n}
	return api.Backend{Identity: a, Contacts: a, Chats: a, Rooms: a, Groups: a, Mailboxes: a, Events: a}
}

// one converts a node call's answer with conv, or its error with apiError.
func one[T, U any](v T, err error, conv func(T) U) (U, error) {
	if err != nil {
		var zero U
		return zero, apiError(err)
	}
	return conv(v), nil
}

// all is one for a list.
func all[T, U any](vs []T, err error, conv func(T) U) ([]U, error) {
	if err != nil {
		return nil, apiError(err)
	}
	out := make([]U, 0, len(vs))
	for _, v := range vs {
		out = append(out, conv(v))
	}
	return out, nil
}
