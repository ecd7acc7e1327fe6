package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/backchannel/backchannel/api"
)

// groupPath is "/v1/groups/<group>/<rest>" with group escaped; group is a
// group ID or the exact name of a group the node knows.
func groupPath(group, rest string) string {
	p := "/v1/groups/" + url.PathEscape(group)
	if rest != "" {
		p += "/" + rest
	}
	return p
}

// Groups lists the groups the node knows: invited, joined, left.
func (c *Client) Groups(ctx context.Context) ([]api.Group, error) {
	v, err := get[api.Groups](ctx, c, "/v1/groups")
	return v.Groups, err
}

// CreateGroup creates a group the node owns.
func (c *Client) CreateGroup(ctx context.Context, name string) (api.Group, error) {
	var v api.Group
	err := c.do(ctx, http.MethodPost, "/v1/groups", api.CreateGroupRequest{Name: name}, &v)
	return v, err
}

// Group returns a group with its members, each as the node shows it
// (Display: "you", a contact's name, the name a member announced, marked
// with the end of its peer ID when another uses it, or that end alone).
func (c *Client) Group(ctx context.Context, group string) (api.GroupDetail, error) {
	return get[api.GroupDetail](ctx, c, groupPath(group, ""))
}

// AcceptGroupInvite joins a group the node was invited to.
func (c *Client) AcceptGroupInvite(ctx context.Context, group string) (api.Group, error) {
	var v api.Group
	err := c.do(ctx, http.MethodPost, groupPath(group, "accept"), nil, &v)
	return v, err
}

// DeclineGroupInvite declines an invitation.
func (c *Client) DeclineGroupInvite(ctx context.Context, group string) error {
	return c.do(ctx, http.MethodPost, groupPath(group, "decline"), nil, nil)
}

// LeaveGroup leaves a group.
func (c *Client) LeaveGroup(ctx context.Context, group string) error {
	return c.do(ctx, http.MethodPost, groupPath(group, "leave"), nil, nil)
}

// RenameGroup renames a group (owner or admin).
func (c *Client) RenameGroup(ctx context.Context, group, name string) error {
	return c.do(ctx, http.MethodPost, groupPath(group, "rename"), api.GroupRenameRequest{Name: name}, nil)
}

// RekeyGroup starts a new epoch with the same members (owner or admin).
func (c *Client) RekeyGroup(ctx context.Context, group string) error {
	return c.do(ctx, http.MethodPost, groupPath(group, "rekey"), nil, nil)
}

// MarkGroupRead marks a group read.
func (c *Client) MarkGroupRead(ctx context.Context, group string) error {
	return c.do(ctx, http.MethodPost, groupPath(group, "read"), nil, nil)
}

// InviteToGroup invites peers (IDs or contacts' names) to a group.
func (c *Client) InviteToGroup(ctx context.Context, group string, peers ...string) error {
	return c.do(ctx, http.MethodPost, groupPath(group, "members"), api.GroupPeersRequest{Peers: peers}, nil)
}

// RemoveGroupMember removes a member (a name or peer ID) from a group.
func (c *Client) RemoveGroupMember(ctx context.Context, group, peer string) error {
	return c.do(ctx, http.MethodPost, groupPath(group, "members/"+url.PathEscape(peer)+"/remove"), nil, nil)
}

// GrantGroupAdmin makes a member an admin (or, with admin false, a plain
// member again).
func (c *Client) GrantGroupAdmin(ctx context.Context, group, peer string, admin bool) error {
	return c.do(ctx, http.MethodPost, groupPath(group, "members/"+url.PathEscape(peer)+"/admin"), api.GroupAdminRequest{Admin: admin}, nil)
}

// GroupSend posts a message to a group.
func (c *Client) GroupSend(ctx context.Context, group string, req api.GroupSendRequest) (api.GroupMessage, error) {
	var v api.GroupMessage
	err := c.do(ctx, http.MethodPost, groupPath(group, "messages"), req, &v)
	return v, err
}

// GroupMessages returns up to limit of a group's latest lines, newest
// first, sent before before (zero: from the newest); limit 0 means the
// server's default.
func (c *Client) GroupMessages(ctx context.Context, group string, limit int, before time.Time) ([]api.GroupMessage, error) {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if !before.IsZero() {
		q.Set("before", before.UTC().Format(time.RFC3339Nano))
	}
	path := groupPath(group, "messages")
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	v, err := get[api.GroupMessages](ctx, c, path)
	return v.Messages, err
}

// GroupChanges returns a group's roster changes, one per epoch that
// changed it, oldest first: who was added, who is gone, who became an
// admin and who stopped being one.
func (c *Client) GroupChanges(ctx context.Context, group string) ([]api.GroupChange, error) {
	v, err := get[api.GroupChanges](ctx, c, groupPath(group, "changes"))
	return v.Changes, err
}
