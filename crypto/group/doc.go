// Package group holds the cryptography of Backchannel's private group chats.
//
// A group has a random ID and a random Secret. Its messages travel on one
// GossipSub topic per epoch, derived from the epoch's key (GroupKey.Topic),
// so a topic name reveals neither the group nor its other epochs, and a
// removed member, who never gets the next key, cannot name the next topic.
// (Secret.Topic, a topic per group, is what the benchmark's raw baseline
// uses; the node does not.)
//
// Membership is a hash-chained list of signed rosters, one per epoch: the
// genesis roster (epoch 0) is signed by the group's owner, and each later
// roster names the hash of the one before it and is signed by the owner or an
// admin of that one (admins only add and remove members; only the owner
// changes roles). When two admins sign rosters for the same epoch at once,
// every node keeps the one that wins by Roster.Beats.
//
// Each epoch has a random EpochKey that the roster's signer sends to every
// member of that epoch's roster over their end-to-end 1:1 sessions, as a
// GroupKey.
// Removing a member starts a new epoch whose key the removed member never
// receives. From the epoch key every member derives one symmetric chain per
// sender, bound to the group ID, the epoch and the sender's identity key. A
// sender seals message n with the n-th key of its SendChain and signs the
// whole Envelope with its Ed25519 identity key; every receiver opens it with
// its ReceiveChain for that sender, which tolerates reordering and loss within
// bounds (MaxSkip, MaxSkippedKeys) and refuses replays.
//
// Forward secrecy inside an epoch: message keys are used once and chain keys
// only move forward, so a receiver that derives a ReceiveChain for every
// roster member when the epoch key arrives and then deletes the epoch key
// cannot decrypt past messages from its stored state. A node that keeps the
// epoch key can re-derive every chain of that epoch.
//
// Envelope.VerifySignature is cheap and stands alone, for the topic
// validator; Roster.CheckSender adds the membership check.
package group
