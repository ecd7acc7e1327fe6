// Package storekey gives a node the key its store is encrypted with at rest
// (storage.Config.EncryptionKey): derived from a passphrase with Argon2id,
// or read from a key file of 32 random bytes. How to get the key again is
// recorded, chosen once when the store is created, in a small file that
// holds no secret (Params: the KDF's salt and costs, or the key file's
// path); the key itself is never written by this package except as a new
// key file.
//
// Argon2id (golang.org/x/crypto/argon2) is the password hash RFC 9106
// recommends; DefaultCost is its second recommended option (3 passes over
// 64 MiB, 4 lanes), sized for a desktop that unlocks its store once per
// start.
package storekey
