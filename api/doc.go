// Package api is a node's local API: JSON over HTTP and a WebSocket event
// stream, served by `backchannel daemon` on loopback only, with the web UI
// beside it. The CLI (package api/client) and the web UI are its clients.
//
// # Finding and authenticating
//
// On Start the server writes Home/api.json, {"addr": "127.0.0.1:PORT",
// "pid": N} (mode 0600), and removes it on Close. The bearer token lives in
// Home/api.token (64 hex digits, mode 0600), made on first start and kept.
// Every request, /metrics and /v1/health included, needs
//
//	Authorization: Bearer <token>
//
// (compared in constant time; 401 "unauthorized" otherwise). The Host
// header must be 127.0.0.1:PORT, localhost:PORT or [::1]:PORT (a defence
// against DNS rebinding) and an Origin header, when present, must be
// http://127.0.0.1:PORT or http://localhost:PORT; otherwise 403
// "forbidden". The server refuses to listen on anything but loopback.
//
// # The web UI's login and session
//
// When the server has a web UI (Config.UI, package web), a browser gets a
// session only against the bearer token, in one of two ways:
//
//   - a one-time login link, GET /login?code=CODE (not HEAD, which a link
//     checker sends and which spends nothing): the code is random
//     (128 bits), works once and expires (LoginLinkTTL, two minutes, for a
//     link from POST /v1/login-links, which only the bearer token may call;
//     the daemon logs one at start that lasts ten); at most 16 wait at once;
//   - the login screen's form, POST /login with the field "token" holding
//     the bearer token.
//
// Either answers 303 to / and sets a session cookie,
// backchannel_session_PORT (HttpOnly, SameSite=Strict, Path=/, 256 random
// bits, kept in memory for the server's run; at most 32 sessions, a new
// login ending the oldest). A wrong code or token gets 401 and the login
// screen saying why. Without a session, GET / is the login screen
// (index.html's sibling login.html) and nothing else: no CSRF value, no
// script; of the UI's files only those under /ui/public/, or
// /ui/v/VERSION/public/ (the login screen's style sheet and icon), are
// served without the session cookie. The pages name the files under
// /ui/v/VERSION/, VERSION being a hash of all of them, and a browser keeps
// them from there for a year; the unversioned path /ui/NAME, or another
// version's, serves the current file, revalidated every time.
//
// With a session, GET / is the UI's page, carrying the session's CSRF value
// in <meta name="backchannel-csrf">. Any /v1 request (and /metrics) is then
// accepted with the cookie instead of the bearer token if it also carries
// the header X-Backchannel-CSRF with that value; the WebSocket of GET
// /v1/events, which cannot carry headers, is accepted with the cookie and
// an Origin header (browsers always send one, and it must name this server
// as above). A cross-site form, image or script can send neither the
// header nor an allowed Origin. The token never appears in a URL.
//
// # Endpoints
//
// {peer} in a path is a peer ID or a contact's name. Bodies are JSON, at
// most 256 KiB; unknown fields are refused. Field names are snake_case and
// stable: fields may be added, none renamed or removed. Times are RFC 3339
// in UTC. "204" answers have no body.
//
//	GET  /v1/health                            200 Health {"status": "ok"}
//	POST /v1/login-links                       201 LoginLink {"url", "expires"}: a one-time login link
//	                                               to the web UI (bearer token only, not a session)
//	GET  /v1/id                                200 Self {"peer_id", "name", "addrs", "invite"}
//	GET  /v1/id/qr.png                         200 image/png: the invite link as a QR code
//	POST /v1/invites {"one_time"}               200 {"invite"}: one_time adds a one-time token
//	GET  /v1/status                            200 Status {"peer_id", "connected_peers", "dht_mode",
//	                                               "routing_table_size", "reachability", "listen_addrs",
//	                                               "outbox_pending", "topics": [TopicStatus]}
//	PUT  /v1/profile                           {"name"} → 204
//	GET  /v1/contacts                          200 {"contacts": [Contact]}
//	POST /v1/contacts                          {"invite", "name"?} → 201 Contact
//	POST /v1/contacts/{peer}/block             204 (deletes the thread; later messages are dropped)
//	POST /v1/contacts/{peer}/unblock           204 (forgets the peer: its next message is a request)
//	GET  /v1/contacts/{peer}/safety-number     200 {"peer_id", "safety_number", "verified"}
//	POST /v1/contacts/{peer}/verify            {"verified"?: bool, default true} or empty → 204
//	POST /v1/messages                          {"to", "text", "kind"?, "reply_to"?, "key"?} → 201 Message
//	                                           (a key already used with that peer returns the first message: retries are safe)
//	GET  /v1/outbox                            → {"messages": [Message]}: ours still waiting to be delivered
//	POST /v1/outbox/{id}/cancel                → Message, now "failed" (id: the ID or 6+ of its first hex digits)
//	GET  /v1/inbox                             200 {"conversations": [Conversation]} (accepted contacts)
//	GET  /v1/requests                          200 {"conversations": [Conversation]} (strangers)
//	POST /v1/requests/{peer}/accept            204 (moves the thread to the inbox, sends our profile)
//	POST /v1/requests/{peer}/decline           204 (deletes the thread; the sender is not told)
//	POST /v1/requests/{peer}/block             204 (as contacts/{peer}/block)
//	GET  /v1/conversations/{peer}/messages     ?limit=1..1000 (default 50)&before=RFC3339
//	                                           → 200 {"messages": [Message]}, newest first
//	POST /v1/conversations/{peer}/read         204 (marks inbound messages seen, sends read receipts)
//	POST /v1/conversations/{peer}/typing       {"typing": bool} → 204
//	GET  /v1/rooms                             200 {"rooms": [Room]} (rooms created or joined, by name)
//	POST /v1/rooms                             {"name", "description"?, "start"?, "as"?} → 201 Room (we host it;
//	                                           "as" is a RoomNameChoice, our name in the room: the profile's if absent)
//	POST /v1/rooms/join                        {"ref": room ID or name, "as"?} → 200 Room (a name is looked up
//	                                           in the DHT; two rooms of that name: 400 invalid_room; without
//	                                           "as", the name chosen when last in it, else the profile's)
//	GET  /v1/rooms/discover?name=              200 {"rooms": [Room]} (rooms of that name, from the DHT)
//	GET  /v1/rooms/{room}                      200 RoomDetail: Room plus "speakers": [peer ID], "people":
//	                                           [RoomPerson] (host, moderators, speakers, listeners),
//	                                           "people_more", "as" and "my_name"
//	POST /v1/rooms/{room}/name                 RoomNameChoice {"use_profile", "name"} → 204 (our name in the
//	                                           room: the profile's, our own, or none; the room is told at once)
//	POST /v1/rooms/{room}/leave                204 (the history stays)
//	POST /v1/rooms/{room}/say                  {"text"} → 201 {"id"} (a chat line)
//	POST /v1/rooms/{room}/ask                  {"text"} → 201 {"id"} (a question)
//	GET  /v1/rooms/{room}/chat                 ?limit=1..1000 (default 50) → 200 {"messages": [RoomChatLine]}
//	                                           (each with its "sender", a RoomPerson),
//	                                           oldest first
//	GET  /v1/rooms/{room}/questions            200 {"questions": [RoomQuestion]}, most upvoted first
//	POST /v1/rooms/{room}/questions/{msg}/upvote  204
//	POST /v1/rooms/{room}/questions/{msg}/answer  204 (host or moderator)
//	POST /v1/rooms/{room}/messages/{msg}/pin   204 (host or moderator; one pinned message per room)
//	POST /v1/rooms/{room}/messages/{msg}/hide  204 (host or moderator: hidden for everyone)
//	POST /v1/rooms/{room}/messages/{msg}/react {"emoji"} → 204
//	POST /v1/rooms/{room}/mute                 {"peer", "until"} → 204 (host or moderator; at most a day)
//	POST /v1/rooms/{room}/grant                {"peer", "role" ("speaker" | "moderator"),
//	                                           "ttl_seconds" (1 to 30 days)} → 204 (host only)
//	GET  /v1/groups                            200 {"groups": [Group]} (invited, joined, left; newest "last" first, then by name)
//	POST /v1/groups                            {"name"} → 201 Group (we own it, alone at epoch 0)
//	GET  /v1/groups/{group}                    200 GroupDetail: Group plus "members": [GroupMember]
//	POST /v1/groups/{group}/accept             200 Group (joins a group we were invited to)
//	POST /v1/groups/{group}/decline            204 (the inviter is told and removes us)
//	POST /v1/groups/{group}/leave              204 (the history stays; the keys go)
//	POST /v1/groups/{group}/rename             {"name"} → 204 (owner or admin)
//	POST /v1/groups/{group}/rekey              204 (owner or admin: a new epoch, same members)
//	POST /v1/groups/{group}/read               204 (marks all read; the group learns how far)
//	POST /v1/groups/{group}/members            {"peers": [peer]} → 204 (owner or admin: invites them,
//	                                           all in one new epoch)
//	POST /v1/groups/{group}/members/{peer}/remove  204 (owner or admin; an admin only by the owner)
//	POST /v1/groups/{group}/members/{peer}/admin   {"admin": bool} → 204 (owner only)
//	GET  /v1/groups/{group}/messages           ?limit=1..1000 (default 50)&before=RFC3339
//	                                           → 200 {"messages": [GroupMessage]}, newest first
//	POST /v1/groups/{group}/messages           {"text", "kind"?, "reply_to"?, "start"?} → 201 GroupMessage
//	GET  /v1/groups/{group}/changes            200 {"changes": [GroupChange]} (roster changes, oldest first)
//	GET  /v1/mailboxes                         200 {"mailboxes": [Mailbox]} (the mailboxes we appointed)
//	POST /v1/mailboxes                         {"peer", "days"? (1 to 400; default 90)} → 201 Mailbox
//	                                           (asks the peer to hold our mail; again: renews it)
//	DELETE /v1/mailboxes/{peer}                204 (drains it if it can, then ends the appointment)
//	POST /v1/mailboxes/drain                   204 (takes what our mailboxes hold for us now)
//	GET  /v1/mailbox/held                      200 {"held": [MailboxHeld]} (what we hold for others)
//	GET  /v1/mailbox/serve                     200 {"helper", "contacts"}: whom we hold mail for
//	PUT  /v1/mailbox/serve                     {"contacts": bool} → 200 {"helper", "contacts"}
//	GET  /v1/contacts/{peer}/mailboxes         200 {"peer_id", "mailboxes": [KnownMailbox]}
//	GET  /v1/events                            WebSocket: one JSON Event per message
//	GET  /metrics                              Prometheus text format
//
// Contact is {"peer_id", "state" ("pending": a stranger whose request is not accepted | "accepted" | "blocked"),
// "name", "profile_name", "addrs", "verified", "origin"?, "created"?,
// "updated"?}. Message is {"id" (32 hex digits), "peer_id", "direction"
// ("inbound" | "outbound"), "kind" ("text" | "reply" | "reaction"), "text",
// "reply_to"?, "sent"?, "received"?, "state" ("queued" | "sent" |
// "in_mailbox" | "delivered" | "read" | "received" | "seen")}. Conversation is {"peer_id",
// "name", "last": Message, "count", "unread", "updated"?}. Event is
// {"type" ("message" | "message_state" | "request" | "contact" | "typing" |
// "room_message" | "group_message" | "group_invite" | "group_member" |
// "group_epoch" | "group_receipt"), "peer_id"?, "message"?, "contact"?,
// "room"?, "group"?, "typing"?, "time"?}.
//
// # Live rooms
//
// {room} in a path is a room ID (52 base32 characters) or the name of a
// room this node knows (any case; when several have it, the one joined,
// else 409 ambiguous_name). {msg} is a room message ID, 64 hex digits, as
// say and ask return and chat and questions list. Room is {"id", "name",
// "description", "host_id", "start"?, "joined", "listeners"}; RoomChatLine
// is {"id", "sender_id", "sender", "time"?, "text", "reply_to"?,
// "reactions": [{"emoji", "count", "mine"}]}; RoomQuestion is {"id",
// "sender_id", "sender", "time"?, "text", "upvotes", "upvoted", "answered",
// "pinned", "reactions"}. "upvoted" and "mine" say the vote is ours
// (published, or handed to the host as a ballot).
// A "sender" (and each of RoomDetail's "people") is a RoomPerson: {"id",
// "name" (what the peer signed, may be empty), "display" (what to show: a
// contact's name; else the claimed name, with "(…" and the end of the peer
// ID when another key uses it; else "…" and the end of the peer ID),
// "role" ("host", "moderator", "speaker" or "listener"), "contact",
// "verified", "me"}. A "room_message"
// event has "room": {"room_id", "message_id", "kind"}, kind being "chat",
// "question", "upvote", "answered", "pin", "reaction", "presence",
// "role-grant", "hide" or "mute": fetch chat or questions to see it.
// Room endpoints answer 404 not_found for a room not joined, 403
// not_allowed when the room's rules refuse the action (moderation by a
// listener, a grant by anyone but the host), 403 muted while we are muted,
// and 400 invalid_room for a message or setting the room refuses.
//
// # Private groups
//
// {group} in a path is a group ID (64 hex digits) or the exact name of a
// group this node knows (two of that name: 400 invalid_group). Group is
// {"id", "name", "state" ("invited" | "joined" | "left" | "removed" |
// "declined"), "epoch", "role" ("owner" | "admin" | "member" | "none"),
// "member_count", "inviter_id"?, "unread", "key_pending", "last"?}, where
// "last", only in GET /v1/groups, is the group's newest GroupMessage of
// kind "text", "reply" or "event" among its 20 newest lines (left out when
// none), as the inbox's "last" is a conversation's; GroupMember is
// {"peer_id", "role" ("none" for an author no longer a member), "name"?
// (the profile name the member announced in the group; members tell each
// other their names, sealed like every group message), "display",
// "contact", "verified", "me"}, "display" being what to show: "you" for
// us, an accepted contact by our name for them, else "name" followed by
// " (…" and the last 8 characters of the peer ID ")" when another member,
// a contact or we use that name (case aside), else "…" and those 8
// characters. GroupMessage is {"id" (64 hex digits), "sender_id",
// "sender": GroupMember (its author as shown now), "kind" ("text" |
// "reply" | "event" | "rename" | "left"; posting, also "reaction" and
// "rsvp"), "text", "reply_to"?, "start"?
// (an event's), "time"?, "epoch", "outbound", "reactions": [{"peer_id",
// "emoji"}], "rsvps": [{"peer_id", "answer"}], "delivered_to": [peer ID],
// "read_by": [peer ID]}. GroupChange is {"epoch", "signer_id", "added",
// "removed", "admins", "not_admin"} (each [peer ID]): how the roster of
// epoch differs from the one before, for each epoch this node holds that
// changed anyone (a rekey does not); a timeline shows it before the first
// message of its epoch. "removed" includes members who left (their "left"
// line says so). A reaction is posted with kind "reaction", the
// emoji as text and the message as reply_to; an RSVP with kind "rsvp",
// "yes", "no" or "maybe" as text and the event as reply_to; an event with
// kind "event", its title as text and "start". The group events carry
// "group": {"group_id", "epoch", "message_id"?, "kind"?, "member_id"?,
// "state"?}; a "group_member" event of kind "profile" says that member_id
// announced a new name. Group endpoints answer 403 not_allowed when the
// action needs the owner or an admin, 400 invalid_group for a group we are
// not in (or a bad group message), and 409 key_pending while the newest
// epoch's key has not arrived (sending waits for it).
//
// # Mailboxes
//
// A mailbox holds our 1:1 mail while we are offline: a helper (a node run
// with --helper holds mail for anyone who appoints it) or a contact who
// agreed (PUT /v1/mailbox/serve {"contacts": true}). Our contacts learn of
// the mailboxes we appoint and deposit there, sealed to us, what they
// cannot deliver; such a message of theirs is "in_mailbox" until we drain
// it and our delivery receipt reaches them. Mailbox is {"peer_id",
// "issued"?, "expires"?, "last_drain"? (left out: not since the node
// started), "drain_error"? (why the last drain failed; may quote the
// mailbox)}. KnownMailbox is {"peer_id", "expires"?, "capability" (we
// deposit as the peer's contact; else as a stranger)}. MailboxHeld is
// {"recipient", "items", "stranger_items", "bytes", "appointed"?,
// "expires"?}: counts only, since the items are sealed to the recipient.
// Appointing answers 409 mailbox_refused when the peer will not hold our
// mail (not a helper, not a contact who agreed, a limit reached: its words
// are in the message) or when we already have four mailboxes; revoking a
// peer that is not one of ours is 404 not_found; 404 no_mailbox says a
// peer has no mailbox we know of.
//
// # Errors
//
// Every error is {"error": "what went wrong", "code": CODE} with the HTTP
// status of its code: bad_request, invalid_invite, invalid_room and
// invalid_group 400, unauthorized 401, forbidden, blocked, not_allowed and
// muted 403, not_found, unknown_peer and no_mailbox 404, method_not_allowed
// 405, ambiguous_name, request_pending, key_pending, mailbox_refused and
// no_peers (a room looked up in the network, with no peer to ask) 409, too_large
// 413, internal 500, unavailable 503 (the node is shutting down). The codes are stable;
// the messages are for people.
//
// # Metrics
//
// backchannel_api_requests_total{route, code} and
// backchannel_api_request_duration_seconds{route}, where route is the
// pattern above ("GET /v1/id") or "unmatched", on the registry the daemon
// passes in, served on /metrics with the node's other metrics.
package api
