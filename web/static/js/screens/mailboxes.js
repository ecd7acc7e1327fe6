// Mailboxes, a section of the Identity screen: the peers we appointed to
// hold our 1:1 mail while we are offline (when they expire, when we last
// drained them, why a drain failed), a form to appoint one and a Revoke
// button per row; whether we hold mail for our contacts; and, on a helper
// or a node holding mail, what it holds per recipient (counts only: the
// items are sealed to their recipients). Every remote string goes in as
// text.

import {get, post, put, del, enc} from '../api.js';
import {h, replace, form, action, shortID, timeEl, debounce, visible, remote} from '../dom.js';

// peerCell names a peer: our name for it with a short form of its ID, or
// the short form alone when we have no name for it.
function peerCell(app, id) {
  const name = app.name(id);
  return h('td', {},
    name !== shortID(id) ? [remote(name, {class: 'conv-name'}), ' '] : null,
    h('span', {class: 'peer-id', title: id}, shortID(id)));
}

// size is a byte count for people.
function size(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1 << 30) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  return `${(n / (1 << 30)).toFixed(1)} GiB`;
}

// mailboxesPanel returns the section and its load function; the Identity
// screen mounts both.
export function mailboxesPanel(app) {
  const mine = h('tbody', {id: 'mailboxes-list'});
  const mineTable = h('table', {class: 'mailboxes', 'aria-labelledby': 'mailboxes-h'},
    h('thead', {}, h('tr', {},
      h('th', {scope: 'col'}, 'Mailbox'), h('th', {scope: 'col'}, 'Expires'),
      h('th', {scope: 'col'}, 'Last drained'), h('th', {scope: 'col'}, 'Problem'),
      h('th', {scope: 'col'}, h('span', {class: 'sr-only'}, 'Actions')))),
    mine);
  const none = h('p', {class: 'empty', id: 'mailboxes-empty', hidden: true},
    'No mailboxes: while you are offline, messages to you wait on their senders\' devices.');
  const serve = h('input', {type: 'checkbox', id: 'mailbox-serve-contacts'});
  const serveStatus = h('p', {class: 'form-status', role: 'status', id: 'mailbox-serve-status'});
  const helperNote = h('p', {class: 'hint', id: 'mailbox-helper-note', hidden: true},
    'This node is a helper: it holds mail for anyone who appoints it.');
  const held = h('tbody', {id: 'mailbox-held'});
  const heldSection = h('div', {id: 'mailbox-held-section', hidden: true},
    h('h3', {id: 'held-h'}, 'Mail you hold for others'),
    h('p', {class: 'hint'}, 'Counts and sizes only: the items are sealed to their recipients, and this node cannot read them.'),
    h('table', {class: 'mailboxes', 'aria-labelledby': 'held-h'},
      h('thead', {}, h('tr', {},
        h('th', {scope: 'col'}, 'Recipient'), h('th', {scope: 'col'}, 'Items'),
        h('th', {scope: 'col'}, 'From strangers'), h('th', {scope: 'col'}, 'Size'),
        h('th', {scope: 'col'}, 'Appointed'), h('th', {scope: 'col'}, 'Expires'))),
      held));

  serve.addEventListener('change', async () => {
    serve.disabled = true;
    serveStatus.textContent = '';
    serveStatus.classList.remove('error');
    try {
      const sv = await put('/v1/mailbox/serve', {contacts: serve.checked});
      serve.checked = sv.contacts;
      serveStatus.textContent = sv.contacts ? 'Holding mail for your contacts who appoint you' : 'Not holding mail for your contacts';
    } catch (err) {
      serve.checked = !serve.checked;
      serveStatus.textContent = visible(err.message);
      serveStatus.classList.add('error');
    } finally {
      serve.disabled = false;
    }
  });

  const el = h('section', {class: 'panel', id: 'mailboxes', 'aria-labelledby': 'mailboxes-h'},
    h('h2', {id: 'mailboxes-h'}, 'Mailboxes'),
    h('p', {class: 'hint'}, 'A mailbox holds your messages, sealed to you, while you are offline: a helper that is always on, ',
      'or a contact who agreed. Your contacts deposit there what they cannot deliver; you collect it when you come back.'),
    mineTable, none,
    form('appoint-mailbox', [
      ['peer', 'Helper or contact (peer ID or name)', {required: true, autocomplete: 'off'}],
      ['days', 'Days (default 90)', {type: 'number', min: 1, max: 400, inputmode: 'numeric'}],
    ], 'Appoint', async (v, inputs) => {
      const m = await post('/v1/mailboxes', {peer: v.peer, days: v.days ? Number(v.days) : 0});
      inputs.peer.value = '';
      inputs.days.value = '';
      load();
      return `Appointed ${app.name(m.peer_id)} until ${new Date(m.expires).toLocaleDateString()}`;
    }),
    h('div', {class: 'actions'},
      action('Collect mail now', async () => {
        try {
          await post('/v1/mailboxes/drain');
          app.announce('Mailboxes drained');
        } finally {
          load();
        }
      }, {id: 'mailbox-drain'})),
    h('div', {class: 'field checkbox'}, serve,
      h('label', {for: 'mailbox-serve-contacts'}, 'Hold mail for my contacts (those who appoint you as their mailbox)')),
    serveStatus, helperNote, heldSection);

  function mailboxRow(m) {
    const name = app.name(m.peer_id);
    return h('tr', {dataset: {peer: m.peer_id}},
      peerCell(app, m.peer_id),
      h('td', {}, timeEl(m.expires)),
      h('td', {}, m.last_drain ? timeEl(m.last_drain) : h('span', {class: 'meta'}, 'not yet')),
      h('td', {class: m.drain_error ? 'error' : ''}, remote(m.drain_error || '')),
      h('td', {}, action('Revoke', async () => {
        await del(`/v1/mailboxes/${enc(m.peer_id)}`);
        app.announce(`Revoked ${name}`);
        load();
      }, {class: 'danger', 'aria-label': `Revoke mailbox ${name}`})));
  }

  function heldRow(x) {
    return h('tr', {dataset: {peer: x.recipient}},
      peerCell(app, x.recipient),
      h('td', {class: 'num'}, String(x.items)),
      h('td', {class: 'num'}, String(x.stranger_items)),
      h('td', {class: 'num'}, size(x.bytes)),
      h('td', {}, timeEl(x.appointed)),
      h('td', {}, timeEl(x.expires)));
  }

  const load = debounce(async () => {
    try {
      const [{mailboxes}, sv, {held: hs}] = await Promise.all([
        get('/v1/mailboxes'), get('/v1/mailbox/serve'), get('/v1/mailbox/held')]);
      replace(mine, mailboxes.map(mailboxRow));
      mineTable.hidden = mailboxes.length === 0;
      none.hidden = mailboxes.length !== 0;
      if (!serve.disabled) serve.checked = sv.contacts;
      helperNote.hidden = !sv.helper;
      heldSection.hidden = !(sv.helper || sv.contacts || hs.length);
      replace(held, hs.length ? hs.map(heldRow)
        : h('tr', {}, h('td', {colspan: 6, class: 'empty'}, 'Holding no mail for anyone right now.')));
    } catch (err) {
      replace(mine, h('tr', {}, h('td', {colspan: 5, class: 'error'}, err.message)));
    }
  }, 100);

  return {el, load};
}
