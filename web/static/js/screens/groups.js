// Groups: the private groups we are in, with unread counts; invitations
// waiting for an answer (accept / decline); groups we left or were removed
// from; and a form to create one.

import {get, post, enc} from '../api.js';
import {h, replace, debounce, form, action, remote, timeEl} from '../dom.js';

// A screen's name, title and place in the navigation are app.js's.
export default {
  mount(main, app) {
    const invites = h('ul', {class: 'requests', id: 'group-invites', 'aria-label': 'Group invitations'});
    const invitesSection = h('section', {'aria-labelledby': 'group-invites-h', hidden: true},
      h('h2', {id: 'group-invites-h'}, 'Invitations'), invites);
    const list = h('ul', {class: 'conversations', id: 'groups-list', 'aria-label': 'Your groups'});
    const empty = h('p', {class: 'empty', hidden: true}, 'You are in no group yet. Create one and invite your contacts.');
    const past = h('ul', {class: 'conversations', id: 'groups-past', 'aria-label': 'Groups you are no longer in'});
    const pastSection = h('details', {class: 'past-groups', hidden: true},
      h('summary', {}, 'Groups you are no longer in'), past);
    main.append(
      h('h1', {tabindex: '-1'}, 'Groups'),
      invitesSection,
      list, empty, pastSection,
      h('section', {class: 'panel', 'aria-labelledby': 'create-group-h'},
        h('h2', {id: 'create-group-h'}, 'New group'),
        h('p', {class: 'hint'}, 'End-to-end encrypted: only its current members can read it. You invite your contacts from the group.'),
        form('create-group', [['name', 'Name', {required: true, autocomplete: 'off', maxlength: 200}]], 'Create', async v => {
          const g = await post('/v1/groups', {name: v.name});
          app.announce(`Created ${g.name}`);
          app.go(`#/group/${g.id}`);
        })));

    const load = debounce(async () => {
      const {groups} = await get('/v1/groups');
      const invited = groups.filter(g => g.state === 'invited');
      const joined = groups.filter(g => g.state === 'joined');
      const gone = groups.filter(g => g.state === 'left' || g.state === 'removed');
      invitesSection.hidden = invited.length === 0;
      replace(invites, invited.map(g => inviteItem(app, g, load)));
      empty.hidden = joined.length > 0 || invited.length > 0;
      replace(list, joined.map(g => groupItem(app, g)));
      pastSection.hidden = gone.length === 0;
      replace(past, gone.map(g => groupItem(app, g)));
    }, 100);
    app.on(e => {
      if (e.type === 'resync' || e.type === 'contact' || (e.type.startsWith('group_') && e.type !== 'group_receipt')) load();
    });
    load();
    return () => load.cancel();
  },
};

const stateText = {left: 'you left', removed: 'you were removed', declined: 'declined'};

// groupItem is one group in the list: like an inbox conversation, its
// last message (who wrote it, what) and when, or how many members it has
// while nothing has been said.
function groupItem(app, g) {
  const last = g.last;
  const members = `${g.member_count} member${g.member_count === 1 ? '' : 's'}`;
  const preview = last
    ? [h('span', {class: 'you'}, last.outbound ? 'You: ' : [remote((last.sender && last.sender.display) || app.name(last.sender_id)), ': ']),
      last.kind === 'event' ? ['📅 ', remote(last.text)] : remote(last.text)]
    : members;
  return h('li', {class: 'conversation group-item' + (g.unread ? ' unread' : ''), dataset: {id: g.id, state: g.state}},
    h('a', {href: `#/group/${g.id}`, title: members},
      h('span', {class: 'avatar', 'aria-hidden': 'true'}, remote(([...g.name][0] || '#').toUpperCase())),
      h('span', {class: 'conv-main'},
        h('span', {class: 'conv-name'}, remote(g.name),
          g.role === 'owner' || g.role === 'admin' ? h('span', {class: 'tag'}, g.role) : null),
        h('span', {class: 'conv-preview'},
          stateText[g.state] ? [stateText[g.state], last ? ' · ' : ''] : '', last || !stateText[g.state] ? preview : '',
          g.key_pending ? ' · waiting for the newest key' : '')),
      h('span', {class: 'conv-meta'},
        last ? timeEl(last.time) : null,
        g.unread ? h('span', {class: 'badge', 'aria-label': `${g.unread} unread`}, g.unread) : null)));
}

function inviteItem(app, g, reload) {
  const id = enc(g.id);
  const from = g.inviter_id ? app.name(g.inviter_id) : 'someone';
  const li = h('li', {class: 'request panel group-invite', dataset: {id: g.id}},
    h('h3', {class: 'request-from'}, remote(g.name)),
    h('p', {class: 'request-context'}, remote(from), ` invited you · ${g.member_count} member${g.member_count === 1 ? '' : 's'}`),
    h('div', {class: 'actions'},
      action('Join', async () => {
        await post(`/v1/groups/${id}/accept`);
        app.announce(`Joined ${g.name}`);
        app.go(`#/group/${g.id}`);
      }, {class: 'primary', 'aria-label': `Join ${g.name}`}),
      action('Decline', async () => {
        await post(`/v1/groups/${id}/decline`);
        app.announce(`Declined ${g.name}`);
        focusAfter(li);
        reload();
      }, {'aria-label': `Decline ${g.name}`})));
  return li;
}

// focusAfter moves the keyboard focus off item, which is about to go, to
// the next item's first button (or the previous one's), else the heading:
// the focus would drop to <body> with it.
function focusAfter(item) {
  const near = (item.nextElementSibling || item.previousElementSibling)?.querySelector('button');
  (near || document.querySelector('main h1'))?.focus();
}
