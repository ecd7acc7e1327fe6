// Package rosterchain is a private group's chain of rosters as a node holds
// it, and the rules by which it adopts a roster: from its base epoch (the
// creator's genesis, or the epoch whose roster an invitation carried) to the
// newest, each roster following the one before (group.Roster.VerifyFollows),
// a fork resolved for the roster that Beats the other. The epoch keys hang
// on the chain: a key is stored only when its epoch's roster lists us and
// was signed by whoever sent the key, and a key whose roster does not link
// yet is parked until the rosters between arrive.
//
// Everything here runs inside the caller's store transaction; package
// groups holds the per-group lock around it.
package rosterchain
