// Package storage is a Backchannel node's local store: identity and prekeys,
// contacts, 1:1 messages and conversation summaries, the outbox, ratchet
// sessions, small settings, live rooms with their messages, private groups
// with their rosters, keys, envelopes and messages, and the mailboxes this
// node keeps for offline recipients, all in one Badger database.
//
// # Transactions
//
// [Store.View] and [Store.Update] run a function with a [Txn] whose typed
// methods read and write records. Everything a function does in one Update
// commits together or not at all, so the node can change a ratchet session,
// a message and its outbox entry atomically. Update retries the function a
// few times when Badger reports a conflict with a concurrent transaction, so
// the function must not have effects outside the transaction.
//
// # Durability
//
// Writes are synced to disk before Update returns (Badger's SyncWrites): once
// Update has returned nil, the data survives kill -9 and power loss. Only
// [Config.NoSync], meant for benchmarks, gives that up.
//
// # Encryption at rest
//
// With [Config.EncryptionKey] (32 bytes) the store uses Badger's encryption:
// every table, value-log file and memtable log is encrypted with AES-256 in
// CTR mode under a data key, and the data keys are kept in the KEYREGISTRY
// file encrypted under the given key, beside a check value that lets [Open]
// tell a wrong key ([ErrWrongKey]) before it reads or writes anything.
// Badger makes a new data key every 10 days; files written since use it,
// older files keep theirs until compaction rewrites them. [ChangeKey]
// re-encrypts the data keys under a new key (not the data). Badger's
// encryption keeps the contents secret but does not authenticate them (CTR,
// no MAC); the files' names, sizes and times stay visible. Keys, being
// inside the encrypted tables, are secret too. Without a key everything is
// in clear: messages, contacts, peer IDs, the identity key, ratchet and
// group secrets.
//
// # Files
//
// [Open] and [Store.Close] make the store's folder 0700 and its files 0600.
// Files Badger creates in between get 0666 less the process umask (its
// tables and memtables; the rest it creates 0600), so a process that keeps
// a store open sets its umask to 077 to keep them private (the daemon does).
//
// # Key layout
//
// Every key starts with a short prefix naming the record kind. <peer> is one
// length byte followed by the raw bytes of the peer ID, so that no peer's keys
// are a prefix of another peer's. Integers are big-endian, times are
// big-endian uint64 nanoseconds since the Unix epoch, so that Badger's key
// order is time order. <room> and <group> are the 32 raw bytes of a room or
// group ID, <sender> and <member> a peer as above, <seq> and <epoch>
// big-endian uint64s; <target> is a 32-byte message ID, length-prefixed like
// a peer, as are <kind>, <value>, <depositor> and <emoji> (1 to 64 bytes: a
// capability label or a stranger's peer ID). Record values are protobuf
// (internal/storepb) unless said otherwise.
//
//	meta/schema                   uint32 schema version (SchemaVersion)
//	k/id                          identity, opaque bytes
//	k/spk/<id uint32>             signed prekey, opaque bytes
//	k/spkcur                      uint32 ID of the current signed prekey
//	k/otk/<id uint32>             one-time prekey, opaque bytes
//	k/otkt/<id uint32>            uint64 time the one-time prekey was made (absent: unknown)
//	q/<name>                      uint64 counter (NextSequence)
//	g/<key>                       setting, opaque bytes
//	c/<peer>                      Contact
//	m/<peer><sent><id 16>         Message, ordered by conversation then time
//	i/<peer><id 16>               uint64 sent time of a message (dedup index)
//	v/<peer>                      Conversation summary
//	o/<peer><created><id 16>      OutboxEntry, FIFO per peer (no index by ID)
//	s/<peer><slot>                ratchet session, opaque bytes
//	r/<room>                      Room
//	rm/<room><sender><seq>        RoomMessage, per sender in seq order (sync)
//	rt/<room><sent><id 32>        reference <sender><seq> (recency index)
//	ri/<room><id 32>              reference <sender><seq> (dedup index)
//	rh/<room><sender>             uint64 high-water mark of the sender's seqs
//	rb/<room><voter><target 32><emoji> RoomBallot (a ballot a room's host keeps)
//	rbt/<room><time><voter><target 32><emoji> empty (recency index of ballots)
//	rbn/<room>                    uint64 count of the room's ballots
//	gg/<group>                    Group
//	gr/<group><epoch>             roster of an epoch, opaque bytes
//	gk/<group><epoch>             epoch key, opaque bytes
//	gq/<group><epoch><sender>     ParkedGroupKey (a key whose roster does not link yet)
//	gs/<group><epoch>             this node's send chain, opaque bytes
//	gc/<group><epoch><sender>     a sender's receive chain, opaque bytes
//	ge/<group><epoch><sender><seq> GroupEnvelope, per sender in seq order (sync)
//	gei/<group><id 32>            reference <epoch><sender><seq> (dedup index)
//	gh/<group><epoch><sender>     uint64 count of the sender's envelopes held from seq 0
//	gm/<group><sent><id 32>       GroupMessage, ordered by time
//	gmi/<group><id 32>            uint64 sent time of a group message (dedup index)
//	ga/<group><target><sender><kind><value> GroupNote (reaction, RSVP)
//	gx/<group><member>            GroupReceipt
//	gn/<group><member>            GroupMemberName (the profile name a member announced)
//	n/<peer>                      KnownPeer (where a peer was last seen)
//	mb/<peer>                     MailboxRegistration (a recipient this node holds mail for)
//	mq/<peer><seq>                MailboxItem, per recipient in seq order
//	md/<peer><depositor>          MailboxCounter (what a depositor has queued for the recipient)
//
// # Schema
//
// The schema version is stored under meta/schema. [Open] refuses a store with
// a newer version than [SchemaVersion] and runs the migrations from an older
// one, each in its own transaction.
package storage
