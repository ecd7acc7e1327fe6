// Identity: who we are (profile name, peer ID, invite link and its QR code),
// adding a contact from an invite, our contacts with their safety numbers
// and "verified" marks, and our mailboxes (see mailboxes.js).

import {get, post, put, enc} from '../api.js';
import {h, replace, form, action, shortID, debounce, remote, setRemote} from '../dom.js';
import {mailboxesPanel} from './mailboxes.js';

// A screen's name, title and place in the navigation are app.js's.
export default {
  mount(main, app) {
    const invite = h('textarea', {id: 'invite-link', readonly: true, rows: 3});
    const qr = h('img', {id: 'invite-qr', alt: 'QR code of your invite link', width: 180, height: 180});
    const oneTime = h('div', {id: 'one-time'});
    const contacts = h('ul', {class: 'contacts', id: 'contacts-list', 'aria-label': 'Contacts'});
    let qrURL = null;
    const mailboxes = mailboxesPanel(app);

    main.append(
      h('h1', {tabindex: '-1'}, 'Identity'),
      h('div', {class: 'columns'},
        h('section', {class: 'panel', 'aria-labelledby': 'me-h'},
          h('h2', {id: 'me-h'}, 'You'),
          h('figure', {class: 'qr'}, qr, h('figcaption', {}, 'Scan to add you')),
          form('profile', [['name', 'Profile name (your accepted contacts see it)', {value: app.self?.name || '', autocomplete: 'nickname'}]],
            'Save', async v => {
              await put('/v1/profile', {name: v.name});
              app.self = await get('/v1/id');
              setRemote(document.getElementById('me'), app.self.name || shortID(app.self.peer_id));
              return 'Saved';
            }),
          h('p', {}, 'Peer ID: ', h('code', {id: 'my-peer-id', class: 'break'}, app.self?.peer_id || '')),
          h('label', {for: 'invite-link'}, 'Your invite link: give it (or the QR code) to someone so they can write to you'),
          invite,
          h('div', {class: 'actions'},
            action('Copy link', async () => {
              await navigator.clipboard.writeText(invite.value);
              app.announce('Invite link copied');
            }),
            action('New one-time invite', async () => {
              const r = await post('/v1/invites', {one_time: true});
              replace(oneTime, h('label', {for: 'one-time-link'}, 'One-time invite (its first user skips the anti-spam stamp):'),
                h('textarea', {id: 'one-time-link', readonly: true, rows: 3}, r.invite));
            })),
          oneTime),
        h('section', {class: 'panel', 'aria-labelledby': 'add-h'},
          h('h2', {id: 'add-h'}, 'Add a contact'),
          form('add-contact', [
            ['invite', 'Invite link or peer ID', {required: true, autocomplete: 'off', multiline: true, rows: 3}],
            ['name', 'Name (what you call them)', {autocomplete: 'off'}],
          ], 'Add', async (v, inputs) => {
            const c = await post('/v1/contacts', {invite: v.invite, name: v.name || undefined});
            await app.refreshContacts();
            inputs.invite.value = '';
            inputs.name.value = '';
            load();
            return `Added ${c.name || shortID(c.peer_id)}`;
          }),
          h('h2', {id: 'contacts-h'}, 'Contacts'),
          contacts)),
      mailboxes.el);

    async function loadMe() {
      app.self = await get('/v1/id');
      invite.value = app.self.invite;
      const blob = await get('/v1/id/qr.png');
      if (qrURL) URL.revokeObjectURL(qrURL);
      qrURL = URL.createObjectURL(blob);
      qr.src = qrURL;
    }

    const load = debounce(async () => {
      await app.refreshContacts();
      const list = [...app.contacts.values()].filter(c => c.state !== 'unknown')
        .sort((a, b) => app.name(a.peer_id).localeCompare(app.name(b.peer_id)));
      replace(contacts, list.length ? list.map(c => contactItem(app, c, load)) : h('li', {class: 'empty'}, 'No contacts yet.'));
    }, 100);
    app.on(e => {
      if (e.type === 'contact' || e.type === 'request' || e.type === 'resync') { load(); mailboxes.load(); }
    });
    loadMe().catch(err => replace(oneTime, h('p', {class: 'error'}, err.message)));
    load();
    mailboxes.load();
    // Drains and deposits raise no event: re-read the mailboxes now and then.
    const poll = setInterval(() => mailboxes.load(), 10000);
    return () => { load.cancel(); mailboxes.load.cancel(); clearInterval(poll); if (qrURL) URL.revokeObjectURL(qrURL); };
  },
};

function contactItem(app, c, reload) {
  const p = enc(c.peer_id);
  const name = app.name(c.peer_id);
  const safety = h('details', {class: 'safety'}, h('summary', {}, 'Safety number'), h('div', {class: 'safety-body'}));
  safety.addEventListener('toggle', async () => {
    if (!safety.open) return;
    const body = safety.querySelector('.safety-body');
    try {
      const sn = await get(`/v1/contacts/${p}/safety-number`);
      replace(body, h('p', {class: 'digits'}, sn.safety_number),
        action(sn.verified ? 'Mark as not verified' : 'Mark as verified', async () => {
          await post(`/v1/contacts/${p}/verify`, {verified: !sn.verified});
          reload();
        }, {'aria-label': `${sn.verified ? 'Mark as not verified' : 'Mark as verified'}: ${name}`}));
    } catch (err) {
      replace(body, h('p', {class: 'error'}, err.message));
    }
  });
  return h('li', {class: 'contact', dataset: {peer: c.peer_id, state: c.state}},
    h('span', {class: 'conv-name'}, remote(name)),
    c.verified ? h('span', {class: 'verified'}, ' ✓ verified') : null,
    c.state === 'blocked' ? h('span', {class: 'tag'}, 'blocked') : null,
    // A stranger who wrote to us: their request waits for an answer.
    c.state === 'pending' ? h('span', {class: 'tag pending-tag', title: 'Their message request waits for your answer in Requests'}, 'pending') : null,
    c.profile_name && c.name && c.profile_name !== c.name ? h('span', {class: 'meta'}, ' (calls themself ', remote(c.profile_name), ')') : null,
    h('span', {class: 'peer-id', title: c.peer_id}, ` ${shortID(c.peer_id)}`),
    h('div', {class: 'actions'},
      c.state === 'accepted' ? h('a', {href: `#/chat/${p}`, class: 'button'}, 'Message') : null,
      c.state === 'pending' ? h('a', {href: '#/requests', class: 'button'}, 'Answer in Requests') : null,
      c.state === 'blocked'
        ? action('Unblock', async () => { await post(`/v1/contacts/${p}/unblock`); reload(); }, {'aria-label': `Unblock ${name}`})
        : action('Block', async () => { await post(`/v1/contacts/${p}/block`); reload(); }, {class: 'danger', 'aria-label': `Block ${name}`})),
    safety);
}
