// Inbox: conversations with accepted contacts, newest first, with unread
// counts and the state of the last message; and a way to write to a contact.

import {get, post} from '../api.js';
import {h, replace, timeEl, debounce, form, remote} from '../dom.js';
import {stateEl} from '../msgstate.js';

// A screen's name, title and place in the navigation are app.js's.
export default {
  mount(main, app) {
    const list = h('ul', {class: 'conversations', id: 'inbox-list', 'aria-label': 'Conversations'});
    const empty = h('p', {class: 'empty', hidden: true},
      'No conversations yet. Add a contact from their invite on the ', h('a', {href: '#/identity'}, 'Identity'), ' screen, or accept a request.');
    const contactsList = h('datalist', {id: 'contact-names'});
    main.append(
      h('h1', {tabindex: '-1'}, 'Inbox'),
      list, empty,
      h('section', {class: 'panel', 'aria-labelledby': 'new-chat-h'},
        h('h2', {id: 'new-chat-h'}, 'New message'),
        contactsList,
        form('new-chat', [
          ['to', 'To (contact name or peer ID)', {required: true, list: 'contact-names', autocomplete: 'off'}],
          ['text', 'Message', {required: true, autocomplete: 'off'}],
        ], 'Send', async v => {
          const m = await post('/v1/messages', {to: v.to, text: v.text});
          app.go(`#/chat/${encodeURIComponent(m.peer_id)}`);
        })));

    const load = debounce(async () => {
      const {conversations} = await get('/v1/inbox');
      empty.hidden = conversations.length > 0;
      replace(list, conversations.map(c => conversationItem(app, c, 'chat')));
      replace(contactsList, [...app.contacts.values()].filter(c => c.state === 'accepted')
        .map(c => h('option', {value: c.name || c.profile_name || c.peer_id}, c.peer_id)));
    }, 100);
    app.on(e => {
      if (['message', 'message_state', 'contact', 'resync'].includes(e.type)) load();
    });
    load();
    return () => load.cancel();
  },
};

// conversationItem is one line of the inbox or the requests.
export function conversationItem(app, c, route, extra) {
  const last = c.last || {};
  const name = c.name || app.name(c.peer_id);
  const preview = last.kind === 'reaction' ? ['reacted ', remote(last.text)]
    : last.kind === 'group_invite' ? ['invitation to the group “', remote(last.text), '”'] : remote(last.text);
  const contact = app.contacts.get(c.peer_id);
  return h('li', {class: 'conversation' + (c.unread ? ' unread' : ''), dataset: {peer: c.peer_id}},
    h('a', {href: `#/${route}/${encodeURIComponent(c.peer_id)}`},
      h('span', {class: 'avatar', 'aria-hidden': 'true'}, remote(([...name][0] || '?').toUpperCase())),
      h('span', {class: 'conv-main'},
        h('span', {class: 'conv-name'}, remote(name),
          contact && contact.verified ? h('span', {class: 'verified', title: 'Safety number verified'}, ' ✓ verified') : null),
        h('span', {class: 'conv-preview'},
          last.direction === 'outbound' ? h('span', {class: 'you'}, 'You: ') : null, preview)),
      h('span', {class: 'conv-meta'},
        timeEl(c.updated),
        c.unread ? h('span', {class: 'badge', 'aria-label': `${c.unread} unread`}, c.unread) : null,
        last.direction === 'outbound' ? stateEl(last.state) : null)),
    extra || null);
}
