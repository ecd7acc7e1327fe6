// Package contacts keeps the people a node knows: their records (accepted,
// a stranger with a request, blocked), names and addresses, invite links and
// their one-time tokens, the user's own profile name, safety numbers and the
// verified mark.
//
// It owns no stream protocol: the 1:1 service (node/dm) and the requests
// inbox (node/requests) read and change contacts through it, and package node
// wires it from an env.Env.
package contacts
