// Package client is a Go client of a node's local API (package api): the
// CLI uses it, and so can tests and other tools.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"syscall"
	"time"

	"github.com/backchannel/backchannel/api"
)

// ErrNoDaemon means no daemon is running for the home folder: there is no
// api.json, or nothing answers at the address it names.
var ErrNoDaemon = errors.New("no daemon running")

// ErrNoAnswer means the daemon took the request but the connection ended
// before its answer (it stopped, or was killed): the request may or may not
// have been carried out.
var ErrNoAnswer = errors.New("the daemon did not answer")

// Error is an error answer of the API.
type Error struct {
	Status  int    // HTTP status
	Code    string // one of the api.Code* constants
	Message string
}

func (e *Error) Error() string { return e.Message }

// Client talks to one daemon.
type Client struct {
	base  string
	token string
	hc    *http.Client
}

// New returns a client of the API at addr (host:port) with token.
func New(addr, token string) *Client {
	return &Client{
		base:  "http://" + addr,
		token: token,
		hc:    &http.Client{Timeout: time.Minute},
	}
}

// FromHome returns a client of the daemon running for home, from the
// api.json and api.token it keeps there. The error wraps ErrNoDaemon when
// there is no api.json or the process it names is gone (a daemon killed
// with SIGKILL leaves its api.json behind; the token must not go to
// whatever listens on that port now).
func FromHome(home string) (*Client, error) {
	addr, pid, err := api.ReadAddr(home)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w for home %s", ErrNoDaemon, home)
	}
	if err != nil {
		return nil, err
	}
	if !alive(pid) {
		return nil, fmt.Errorf("%w for home %s: process %d is gone", ErrNoDaemon, home, pid)
	}
	tok, err := api.ReadToken(home)
	if err != nil {
		return nil, err
	}
	return New(addr, string(tok)), nil
}

// do sends a request with body in (nil for none) and decodes the answer
// into out (nil to ignore it).
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("%w: nothing answers at %s", ErrNoDaemon, c.base)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) {
			return fmt.Errorf("%w: %w", ErrNoAnswer, err)
		}
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var e api.Error
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(b, &e) != nil || e.Code == "" {
			return &Error{Status: resp.StatusCode, Code: "http_" + strconv.Itoa(resp.StatusCode), Message: resp.Status}
		}
		return &Error{Status: resp.StatusCode, Code: e.Code, Message: e.Error}
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decoding %s %s: %w", method, path, err)
	}
	return nil
}

func get[T any](ctx context.Context, c *Client, path string) (T, error) {
	var v T
	err := c.do(ctx, http.MethodGet, path, nil, &v)
	return v, err
}

// Health checks that the daemon answers.
func (c *Client) Health(ctx context.Context) error {
	_, err := get[api.Health](ctx, c, "/v1/health")
	return err
}

// Self returns the node's peer ID, addresses and invite link.
func (c *Client) Self(ctx context.Context) (api.Self, error) { return get[api.Self](ctx, c, "/v1/id") }

// Status returns the node's network status.
func (c *Client) Status(ctx context.Context) (api.Status, error) {
	return get[api.Status](ctx, c, "/v1/status")
}

// NewInvite returns an invite link; oneTime adds a one-time token.
func (c *Client) NewInvite(ctx context.Context, oneTime bool) (string, error) {
	var v api.InviteResponse
	err := c.do(ctx, http.MethodPost, "/v1/invites", api.InviteRequest{OneTime: oneTime}, &v)
	return v.Invite, err
}

// LoginLink returns a new one-time login link to the daemon's web UI.
func (c *Client) LoginLink(ctx context.Context) (api.LoginLink, error) {
	var v api.LoginLink
	err := c.do(ctx, http.MethodPost, "/v1/login-links", nil, &v)
	return v, err
}

// SetProfileName sets the name the node shows its contacts.
func (c *Client) SetProfileName(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodPut, "/v1/profile", api.ProfileRequest{Name: name}, nil)
}

// Contacts lists the contacts.
func (c *Client) Contacts(ctx context.Context) ([]api.Contact, error) {
	v, err := get[api.Contacts](ctx, c, "/v1/contacts")
	return v.Contacts, err
}

// AddContact adds a contact from an invite link or a peer ID.
func (c *Client) AddContact(ctx context.Context, invite, name string) (api.Contact, error) {
	var v api.Contact
	err := c.do(ctx, http.MethodPost, "/v1/contacts", api.AddContactRequest{Invite: invite, Name: name}, &v)
	return v, err
}

// peerPath is "/v1/<group>/<peer>/<action>" with peer escaped.
func peerPath(group, peer, action string) string {
	return "/v1/" + group + "/" + url.PathEscape(peer) + "/" + action
}

// Block blocks a peer (a name or peer ID).
func (c *Client) Block(ctx context.Context, peer string) error {
	return c.do(ctx, http.MethodPost, peerPath("contacts", peer, "block"), nil, nil)
}

// Unblock unblocks a peer.
func (c *Client) Unblock(ctx context.Context, peer string) error {
	return c.do(ctx, http.MethodPost, peerPath("contacts", peer, "unblock"), nil, nil)
}

// SafetyNumber returns the safety number shared with a peer.
func (c *Client) SafetyNumber(ctx context.Context, peer string) (api.SafetyNumber, error) {
	return get[api.SafetyNumber](ctx, c, peerPath("contacts", peer, "safety-number"))
}

// SetVerified records whether the safety number with a peer was checked.
func (c *Client) SetVerified(ctx context.Context, peer string, verified bool) error {
	return c.do(ctx, http.MethodPost, peerPath("contacts", peer, "verify"), api.VerifyRequest{Verified: &verified}, nil)
}

// Send sends a message.
func (c *Client) Send(ctx context.Context, req api.SendRequest) (api.Message, error) {
	var v api.Message
	err := c.do(ctx, http.MethodPost, "/v1/messages", req, &v)
	return v, err
}

// Outbox lists our messages still waiting to be delivered.
func (c *Client) Outbox(ctx context.Context) ([]api.Message, error) {
	v, err := get[api.Messages](ctx, c, "/v1/outbox")
	return v.Messages, err
}

// CancelMessage stops trying to deliver a waiting message, named by its ID
// or a unique prefix of 6 hex digits or more; it answers the message, now
// failed.
func (c *Client) CancelMessage(ctx context.Context, ref string) (api.Message, error) {
	var v api.Message
	err := c.do(ctx, http.MethodPost, "/v1/outbox/"+url.PathEscape(ref)+"/cancel", nil, &v)
	return v, err
}

// Inbox lists the conversations with contacts, newest first.
func (c *Client) Inbox(ctx context.Context) ([]api.Conversation, error) {
	v, err := get[api.Conversations](ctx, c, "/v1/inbox")
	return v.Conversations, err
}

// Requests lists strangers' conversations, newest first.
func (c *Client) Requests(ctx context.Context) ([]api.Conversation, error) {
	v, err := get[api.Conversations](ctx, c, "/v1/requests")
	return v.Conversations, err
}

// Accept accepts a stranger's request.
func (c *Client) Accept(ctx context.Context, peer string) error {
	return c.do(ctx, http.MethodPost, peerPath("requests", peer, "accept"), nil, nil)
}

// Decline deletes a stranger's request without telling them.
func (c *Client) Decline(ctx context.Context, peer string) error {
	return c.do(ctx, http.MethodPost, peerPath("requests", peer, "decline"), nil, nil)
}

// BlockRequest blocks a stranger.
func (c *Client) BlockRequest(ctx context.Context, peer string) error {
	return c.do(ctx, http.MethodPost, peerPath("requests", peer, "block"), nil, nil)
}

// Messages returns up to limit messages with a peer sent before before
// (zero: the newest), newest first. limit 0 means the server's default.
func (c *Client) Messages(ctx context.Context, peer string, limit int, before time.Time) ([]api.Message, error) {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if !before.IsZero() {
		q.Set("before", before.UTC().Format(time.RFC3339Nano))
	}
	path := peerPath("conversations", peer, "messages")
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	v, err := get[api.Messages](ctx, c, path)
	return v.Messages, err
}

// MarkRead marks a conversation read.
func (c *Client) MarkRead(ctx context.Context, peer string) error {
	return c.do(ctx, http.MethodPost, peerPath("conversations", peer, "read"), nil, nil)
}

// Typing tells a peer whether we are typing.
func (c *Client) Typing(ctx context.Context, peer string, typing bool) error {
	return c.do(ctx, http.MethodPost, peerPath("conversations", peer, "typing"), api.TypingRequest{Typing: typing}, nil)
}
