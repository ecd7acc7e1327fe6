// Thread: one 1:1 conversation, live: replies, reactions, typing, and the
// state of what we sent (queued, sent, in the recipient's mailbox,
// delivered, read).

import {get, post, enc} from '../api.js';
import {h, replace, time, timeEl, debounce, action, shortID, showError, remote, setRemote, visible, claim, release} from '../dom.js';
import {messageList, actions, describe, reactionsText} from '../msglist.js';
import {stateEl, stateLabel} from '../msgstate.js';

const quickReactions = ['👍', '❤️', '😂', '😮'];

// A screen's name, title and place in the navigation are app.js's.
export default {
  mount(main, app, peer) {
    const p = enc(peer);
    const name = () => app.name(peer);
    let replyTo = null;
    let byID = new Map();
    let roomNames = new Map();
    const roomName = id => roomNames.get(id) || 'a room';

    const heading = h('h1', {tabindex: '-1', id: 'thread-title'}, remote(name()));
    const verifiedMark = h('span', {id: 'verified-mark'});
    const requestNote = h('p', {class: 'notice-inline', hidden: true},
      'This conversation is a request. ', h('a', {href: '#/requests'}, 'Accept or decline it in Requests.'));
    const safety = h('details', {class: 'safety', id: 'safety'},
      h('summary', {}, 'Safety number'), h('div', {class: 'safety-body'}, 'Loading…'));
    safety.addEventListener('toggle', () => { if (safety.open) loadSafety(); });
    // The messages: one Tab stop, arrows between them (msglist.js).
    const {wrapper: logBox, list: log} = messageList({id: 'thread-log', className: 'thread-log', label: `Messages with ${name()}`});
    const typing = h('p', {class: 'typing', id: 'typing', 'aria-live': 'polite'});
    const replyChip = h('div', {class: 'reply-chip', hidden: true});
    const input = h('input', {id: 'composer', name: 'text', autocomplete: 'off', required: true, placeholder: 'Write a message'});
    const composer = h('form', {class: 'composer', id: 'composer-form'},
      replyChip,
      h('label', {for: 'composer', class: 'sr-only'}, `Message to ${name()}`),
      input,
      h('button', {type: 'submit', class: 'primary'}, 'Send'));

    main.append(
      h('div', {class: 'thread-head'}, h('a', {href: '#/inbox', class: 'back'}, '← Inbox'), heading,
        h('span', {class: 'peer-id', title: peer}, shortID(peer)), verifiedMark),
      requestNote, safety, logBox, typing, composer);

    async function loadSafety() {
      const body = safety.querySelector('.safety-body');
      try {
        const sn = await get(`/v1/contacts/${p}/safety-number`);
        replace(body,
          h('p', {}, 'Compare these digits with ', remote(name()), ' in person or on a call. If they match, no one is in the middle.'),
          h('p', {class: 'digits', id: 'safety-digits'}, sn.safety_number),
          action(sn.verified ? 'Mark as not verified' : 'Mark as verified', async () => {
            await post(`/v1/contacts/${p}/verify`, {verified: !sn.verified});
            await app.refreshContacts();
            drawVerified();
            loadSafety();
          }, {id: 'verify-button'}));
      } catch (err) {
        replace(body, h('p', {class: 'error'}, err.message));
      }
    }

    function drawVerified() {
      const c = app.contacts.get(peer);
      replace(verifiedMark,
        c && c.verified ? h('span', {class: 'verified'}, '✓ verified') : null);
      requestNote.hidden = !(c && c.state === 'pending');
      setRemote(heading, name());
      logBox.setAttribute('aria-label', visible(`Messages with ${name()}`));
    }

    function setReply(m) {
      replyTo = m;
      replyChip.hidden = !m;
      if (m) {
        replace(replyChip, h('span', {}, 'Replying to: ', h('q', {}, remote(m.text))),
          h('button', {type: 'button', 'aria-label': 'Cancel reply', onclick: () => setReply(null)}, '×'));
        input.focus();
      }
    }

    function messageItem(m, reactions) {
      const who = m.direction === 'inbound' ? name() : 'You';
      if (m.kind === 'group_invite') {
        // An invitation to a private group: answered on the Groups screen.
        return h('li', {class: `msg ${m.direction} group-invite-line`, dataset: {id: m.id, state: m.state},
          'aria-label': describe(m.direction === 'inbound' ? `${who} invited you to the group “${m.text}”, ${time(m.sent)}`
            : `You invited ${name()} to the group “${m.text}”, ${time(m.sent)}`)},
          h('p', {class: 'body'}, m.direction === 'inbound' ? [remote(name()), ' invited you to the group “', remote(m.text), '”. ']
            : ['You invited ', remote(name()), ' to the group “', remote(m.text), '”. '],
          m.direction === 'inbound' ? h('a', {href: '#/groups'}, 'Answer in Groups') : null),
          h('div', {class: 'meta'}, timeEl(m.sent)));
      }
      const target = m.reply_to ? byID.get(m.reply_to) : null;
      const grouped = new Map();
      for (const r of reactions) {
        const g = grouped.get(r.text) || {n: 0, mine: false};
        g.n++;
        g.mine ||= r.direction === 'outbound';
        grouped.set(r.text, g);
      }
      return h('li', {class: `msg ${m.direction}`, dataset: {id: m.id, state: m.state},
        'aria-label': describe(`${who}, ${time(m.sent)}: ${m.text}`,
          target ? `Replying to: ${target.text}` : m.reply_to ? 'Replying to an earlier message' : null,
          m.direction === 'outbound' ? stateLabel(m.state) : null,
          reactionsText([...grouped].map(([emoji, g]) => ({emoji, count: g.n, mine: g.mine}))))},
        target || m.reply_to ? h('blockquote', {class: 'quote'}, target ? remote(target.text, {multiline: true}) : 'an earlier message') : null,
        m.context && m.context.startsWith('room:') ? h('p', {class: 'context-tag'}, 'Private question from room ',
          h('a', {href: `#/room/${m.context.slice(5)}`}, remote(roomName(m.context.slice(5))))) : null,
        h('p', {class: 'body', dir: 'auto'}, remote(m.text, {multiline: true})),
        h('div', {class: 'meta'},
          m.direction === 'inbound' ? h('span', {class: 'sr-only'}, `${name()} `) : h('span', {class: 'sr-only'}, 'You '),
          timeEl(m.sent),
          m.direction === 'outbound' ? stateEl(m.state) : null),
        grouped.size ? h('ul', {class: 'reactions', 'aria-label': 'Reactions'},
          [...grouped].map(([emoji, g]) => h('li', {class: g.mine ? 'mine' : ''},
            h('span', {'aria-hidden': 'true'}, remote(emoji)), h('span', {class: 'count'}, g.n),
            h('span', {class: 'sr-only'}, ` ${emoji}${g.mine ? ' including you' : ''}`)))) : null,
        actions(
          h('button', {type: 'button', class: 'link reply', onclick: () => setReply(m), 'aria-label': `Reply to: ${m.text}`}, 'Reply'),
          quickReactions.map(emoji => h('button', {
            type: 'button', class: 'react', 'aria-label': `React ${emoji} to: ${m.text}`,
            onclick: ev => send({text: emoji, kind: 'reaction', reply_to: m.id}).catch(err => showError(ev.target, err)),
          }, emoji))));
    }

    const load = debounce(async () => {
      const {messages} = await get(`/v1/conversations/${p}/messages?limit=200`);
      messages.reverse();
      if (messages.some(m => m.context) && !roomNames.size) {
        const {rooms} = await get('/v1/rooms');
        roomNames = new Map(rooms.map(r => [r.id, r.name]));
      }
      byID = new Map(messages.map(m => [m.id, m]));
      const reactions = new Map();
      for (const m of messages) {
        if (m.kind === 'reaction') {
          if (!reactions.has(m.reply_to)) reactions.set(m.reply_to, []);
          reactions.get(m.reply_to).push(m);
        }
      }
      const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
      replace(log, messages.filter(m => m.kind !== 'reaction').map(m => messageItem(m, reactions.get(m.id) || [])));
      if (nearBottom || !log.dataset.loaded) log.scrollTop = log.scrollHeight;
      log.dataset.loaded = '1';
      if (document.visibilityState === 'visible' && messages.some(m => m.direction === 'inbound' && m.state === 'received')) {
        post(`/v1/conversations/${p}/read`).catch(() => {});
      }
    }, 50);

    async function send(body) {
      await post('/v1/messages', {to: peer, ...body});
      load();
    }

    let typingSent = 0;
    let typingOff = null;
    const setTyping = on => {
      const c = app.contacts.get(peer);
      if (!c || c.state !== 'accepted') return;
      post(`/v1/conversations/${p}/typing`, {typing: on}).catch(() => {});
    };
    input.addEventListener('input', () => {
      if (Date.now() - typingSent > 3000) { typingSent = Date.now(); setTyping(true); }
      clearTimeout(typingOff);
      typingOff = setTimeout(() => { typingSent = 0; setTyping(false); }, 4000);
    });

    composer.addEventListener('submit', async ev => {
      ev.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      const btn = composer.querySelector('button[type=submit]');
      if (!claim(btn)) return;
      try {
        await send(replyTo ? {text, reply_to: replyTo.id} : {text});
        input.value = '';
        setReply(null);
        clearTimeout(typingOff);
        if (typingSent) { typingSent = 0; setTyping(false); }
      } catch (err) {
        showError(btn, err);
      } finally {
        release(btn);
        input.focus();
      }
    });

    let typingClear = null;
    let contactRedraw = null;
    app.on(e => {
      if (e.type === 'resync') { load(); drawVerified(); return; }
      if (e.type === 'contact' && e.peer_id === peer) { clearTimeout(contactRedraw); contactRedraw = setTimeout(drawVerified, 100); }
      if (e.peer_id !== peer && !(e.message && e.message.peer_id === peer)) return;
      if (e.type === 'typing') {
        replace(typing, e.typing ? [remote(name()), ' is typing…'] : null);
        clearTimeout(typingClear);
        if (e.typing) typingClear = setTimeout(() => { typing.textContent = ''; }, 8000);
      }
      if (e.type === 'message' || e.type === 'message_state' || e.type === 'request') {
        if (e.type !== 'message_state') typing.textContent = '';
        load();
      }
    });
    const onVisible = () => { if (document.visibilityState === 'visible') load(); };
    document.addEventListener('visibilitychange', onVisible);
    drawVerified();
    load();
    input.focus();
    return () => {
      load.cancel();
      clearTimeout(typingOff);
      clearTimeout(typingClear);
      clearTimeout(contactRedraw);
      document.removeEventListener('visibilitychange', onVisible);
      if (typingSent) setTyping(false);
    };
  },
};
