package pubsub

import "errors"

// Errors returned by this package, wrapped with context.
var (
	// ErrClosed is returned by operations on a closed PubSub or Topic.
	ErrClosed = errors.New("pubsub: closed")

	// ErrJoined is returned by Join for a topic this PubSub has already joined.
	ErrJoined = errors.New("pubsub: topic already joined")

	// ErrNoValidator is returned by Join without a validator: every topic
	// validates what it receives and publishes.
	ErrNoValidator = errors.New("pubsub: no validator")

	// ErrNotReady is returned by Publish when its context ends before the
	// topic has a peer: the message was not sent. It wraps together with
	// the context's error.
	ErrNotReady = errors.New("pubsub: no peer in topic")
)
