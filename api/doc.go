// Package api is a node's local API: JSON over HTTP and a WebSocket event
// stream, served by `backchannel daemon` on loopback only. The CLI (and
// later the web UI) is its client; see package api/client.
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
// # Endpoints
//
// {peer} in a path is a peer ID or a contact's name. Bodies are JSON, at
// most 256 KiB; unknown fields are refused. Field names are snake_case and
// stable: fields may be added, none renamed or removed. Times are RFC 3339
// in UTC. "204" answers have no body.
//
//	GET  /v1/health                            200 Health {"status": "ok"}
//	GET  /v1/id                                200 Self {"peer_id", "name", "addrs", "invite"}
//	POST /v1/invites {"one_time"}               200 {"invite"}: one_time adds a one-time token
//	GET  /v1/status                            200 Status {"peer_id", "connected_peers", "dht_mode",
//	                                               "routing_table_size", "reachability", "listen_addrs",
//	                                               "outbox_pending"}
//	PUT  /v1/profile                           {"name"} → 204
//	GET  /v1/contacts                          200 {"contacts": [Contact]}
//	POST /v1/contacts                          {"invite", "name"?} → 201 Contact
//	POST /v1/contacts/{peer}/block             204 (deletes the thread; later messages are dropped)
//	POST /v1/contacts/{peer}/unblock           204 (forgets the peer: its next message is a request)
//	GET  /v1/contacts/{peer}/safety-number     200 {"peer_id", "safety_number", "verified"}
//	POST /v1/contacts/{peer}/verify            {"verified"?: bool, default true} or empty → 204
//	POST /v1/messages                          {"to", "text", "kind"?, "reply_to"?} → 201 Message
//	GET  /v1/inbox                             200 {"conversations": [Conversation]} (accepted contacts)
//	GET  /v1/requests                          200 {"conversations": [Conversation]} (strangers)
//	POST /v1/requests/{peer}/accept            204 (moves the thread to the inbox, sends our profile)
//	POST /v1/requests/{peer}/decline           204 (deletes the thread; the sender is not told)
//	POST /v1/requests/{peer}/block             204 (as contacts/{peer}/block)
//	GET  /v1/conversations/{peer}/messages     ?limit=1..1000 (default 50)&before=RFC3339
//	                                           → 200 {"messages": [Message]}, newest first
//	POST /v1/conversations/{peer}/read         204 (marks inbound messages seen, sends read receipts)
//	POST /v1/conversations/{peer}/typing       {"typing": bool} → 204
//	GET  /v1/events                            WebSocket: one JSON Event per message
//	GET  /metrics                              Prometheus text format
//
// Contact is {"peer_id", "state" ("unknown" | "accepted" | "blocked"),
// "name", "profile_name", "addrs", "verified", "origin"?, "created"?,
// "updated"?}. Message is {"id" (32 hex digits), "peer_id", "direction"
// ("inbound" | "outbound"), "kind" ("text" | "reply" | "reaction"), "body",
// "reply_to"?, "sent"?, "received"?, "state" ("queued" | "sent" |
// "delivered" | "read" | "received" | "seen")}. Conversation is {"peer_id",
// "name", "last": Message, "count", "unread", "updated"?}. Event is
// {"type" ("message" | "message_state" | "request" | "contact" | "typing"),
// "peer_id"?, "message"?, "contact"?, "typing"?, "time"?}.
//
// # Errors
//
// Every error is {"error": "what went wrong", "code": CODE} with the HTTP
// status of its code: bad_request and invalid_invite 400, unauthorized 401,
// forbidden and blocked 403, not_found and unknown_peer 404,
// method_not_allowed 405, ambiguous_name and request_pending 409, too_large
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
