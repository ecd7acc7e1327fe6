// Room: one live room: who is there with their roles, the chat, and the
// question queue (most upvoted first) with ask and upvote; the host and
// moderators answer, pin, hide, mute and (the host) grant roles. Each line
// shows its sender as the daemon names them (see roomnames.js), and we
// choose the name we go by here.

import {get, post} from '../api.js';
import {h, replace, time, timeEl, throttle, action, form, showError, remote, setRemote, visible, claim, release} from '../dom.js';
import {personEl, nameChoice, nameSummary, atLeast} from './roomnames.js';
import {messageList, actions, describe, reactionsText} from '../msglist.js';

const roomReactions = ['👍', '👏', '❤️'];

// redraw replaces list's items, keeping the keyboard focus in the list
// when the control it was on goes away with the redraw (a moderator hid the
// question, marked it answered or pinned it, and that button is gone): to
// the same item's control at the same place, or else to the control that
// says the same (Hide) in the item now at that item's place, else to that
// item's control at the same place, else to fallback. replace() already
// follows a control whose item moved (an upvote reorders the list).
function redraw(list, items, fallback) {
  const active = document.activeElement;
  const inList = active && active !== list && list.contains(active);
  const controls = el => [...el.querySelectorAll('button, a[href], input, select, textarea, summary')];
  const item = inList ? active.closest('[data-id]') : null;
  const index = item ? [...list.children].indexOf(item) : -1;
  const at = item ? controls(item).indexOf(active) : -1;
  const text = inList ? active.textContent : '';
  replace(list, items);
  if (!inList || list.contains(document.activeElement)) return;
  const now = [...list.children];
  const same = item && now.find(li => li.dataset.id === item.dataset.id);
  const next = same || now[Math.min(index, now.length - 1)];
  const cs = next ? controls(next) : [];
  const to = (!same && cs.find(c => c.textContent === text)) || (cs.length ? cs[Math.max(0, Math.min(at, cs.length - 1))] : fallback);
  if (to) to.focus();
}

// A screen's name, title and place in the navigation are app.js's.
export default {
  mount(main, app, id) {
    const base = `/v1/rooms/${id}`;
    let info = null;
    let modTools = false;
    // The questions drawn so far (null before the first load), to tell
    // screen readers of new ones.
    let seen = null;

    const heading = h('h1', {tabindex: '-1', id: 'room-title'}, 'Room');
    const desc = h('p', {class: 'room-desc'});
    const who = h('p', {class: 'who', id: 'room-who', 'aria-live': 'polite'});
    // The people present, the host first, then moderators, speakers and
    // listeners.
    const people = h('ul', {class: 'people', id: 'room-people', 'aria-label': 'People here'});
    // The name we go by in this room: the profile name, one for this room,
    // or none.
    const asChoice = nameChoice('room', app, 'The name you go by in this room');
    const nameSum = h('span', {id: 'room-name-summary'});
    const nameBox = h('details', {class: 'name-box', id: 'room-name-box'},
      h('summary', {}, 'Your name here: ', nameSum),
      form('my-room-name', [asChoice.el], 'Save name', async () => {
        await post(`${base}/name`, asChoice.value());
        load();
        return 'Saved: the room sees your new name.';
      }));
    // Opened: the choice as it is now, not as it was when last drawn.
    nameBox.addEventListener('toggle', () => { if (nameBox.open && info?.as) asChoice.set(info.as); });
    // Failed actions are told here, not beside their button: the lists are
    // redrawn as the room changes.
    const status = h('p', {class: 'room-status error', id: 'room-status', role: 'alert'});
    // act is action() whose failure shows in status.
    const act = (label, fn, attrs) => action(label, async () => {
      status.textContent = '';
      try {
        await fn();
      } catch (err) {
        status.textContent = visible(`${attrs && attrs['aria-label'] || label}: ${err.message}`);
      }
    }, attrs);
    const modToggle = h('input', {type: 'checkbox', id: 'mod-tools'});
    // The chat: one Tab stop, arrows between the lines (msglist.js).
    const {wrapper: chatBox, list: chatLog} = messageList({id: 'room-chat', className: 'room-chat', label: 'Room chat', replies: false});
    const speakerSelect = h('select', {id: 'private-to'});
    const privateText = h('input', {id: 'private-text', autocomplete: 'off', required: true, maxlength: 4000});
    const privateStatus = h('p', {class: 'form-status', role: 'status'});
    const privateForm = h('form', {class: 'private-form', hidden: true},
      h('h3', {}, 'Ask a speaker privately'),
      h('div', {class: 'composer'},
        h('label', {for: 'private-to', class: 'sr-only'}, 'Speaker'), speakerSelect,
        h('label', {for: 'private-text', class: 'sr-only'}, 'Private question'), privateText,
        h('button', {type: 'submit'}, 'Send privately')),
      privateStatus);
    privateForm.addEventListener('submit', async ev => {
      ev.preventDefault();
      privateStatus.classList.remove('error');
      try {
        const m = await post(`${base}/ask-speaker`, {peer: speakerSelect.value, text: privateText.value.trim()});
        privateText.value = '';
        replace(privateStatus, 'Sent, end to end encrypted: ', h('a', {href: `#/chat/${encodeURIComponent(m.peer_id)}`}, ['your conversation with ', remote(app.name(m.peer_id))]));
      } catch (err) {
        privateStatus.classList.add('error');
        privateStatus.textContent = visible(err.message);
      }
    });
    // Not a live region: redrawn whole on every change, it would be read out
    // whole each time. New questions are announced one by one (tellNew).
    const questions = h('ol', {class: 'questions', id: 'questions', 'aria-label': 'Questions, most upvoted first'});
    function tellNew(qs) {
      const fresh = seen ? qs.filter(q => !seen.has(q.id) && !q.sender.me) : [];
      seen = new Set(qs.map(q => q.id));
      if (fresh.length === 1) app.announce(`New question from ${fresh[0].sender.display}: ${fresh[0].text}`);
      else if (fresh.length > 1) app.announce(`${fresh.length} new questions`);
    }

    // Everything below the heading waits for the first load and then shows
    // at once, in its final layout: drawn piece by piece, the description
    // and the "who is here" lines filled in late and pushed the columns
    // down, most on a phone.
    const body = h('div', {class: 'room-body', hidden: true},
      desc, who, people, nameBox,
      h('div', {class: 'room-tools'},
        h('label', {class: 'check'}, modToggle, ' Moderator tools'),
        act('Leave room', async () => { await post(`${base}/leave`); app.go('#/rooms'); }, {class: 'danger'})),
      // The ask box and the chat's own box come before their lists: the
      // keyboard reaches them first, without going through every line.
      h('div', {class: 'columns room-columns'},
        h('section', {class: 'panel', 'aria-labelledby': 'questions-h'},
          h('h2', {id: 'questions-h', tabindex: '-1'}, 'Questions'),
          status,
          textForm('ask', 'Ask a question', 'Ask', text => post(`${base}/ask`, {text})),
          questions,
          privateForm),
        h('section', {class: 'panel chat-panel', 'aria-labelledby': 'chat-h'},
          h('h2', {id: 'chat-h'}, 'Chat'),
          textForm('say', 'Say something', 'Send', text => post(`${base}/say`, {text})),
          chatBox)));
    main.append(
      h('div', {class: 'thread-head'}, h('a', {href: '#/rooms', class: 'back'}, '← Rooms'), heading),
      body);
    // A private question to a speaker: an end-to-end 1:1 message that
    // carries the room as its context (a request if they have not accepted
    // us yet).
    function drawPrivate() {
      const speakers = (info?.speakers || []).filter(p => p !== app.self?.peer_id);
      privateForm.hidden = speakers.length === 0;
      const current = speakerSelect.value;
      replace(speakerSelect, speakers.map(p => {
        const person = info.people.find(x => x.id === p);
        return h('option', {value: p}, visible(person ? person.display : app.name(p)) + (p === info.host_id ? ' (host)' : ''));
      }));
      if (speakers.includes(current)) speakerSelect.value = current;
    }
    modToggle.addEventListener('change', () => { modTools = modToggle.checked; load(); });

    function textForm(name, label, button, send) {
      const input = h('input', {id: `room-${name}`, autocomplete: 'off', required: true, maxlength: 4000});
      const f = h('form', {class: `composer room-${name}-form`},
        h('label', {for: `room-${name}`, class: 'sr-only'}, label), input,
        h('button', {type: 'submit', class: 'primary'}, button));
      input.placeholder = label;
      f.addEventListener('submit', async ev => {
        ev.preventDefault();
        const text = input.value.trim();
        if (!text) return;
        const btn = f.querySelector('button');
        if (!claim(btn)) return;
        try {
          await send(text);
          input.value = '';
          load();
        } catch (err) {
          showError(btn, err);
        } finally {
          release(btn);
          input.focus();
        }
      });
      return f;
    }

    const isHost = () => info && app.self && info.host_id === app.self.peer_id;
    const target = (msgID, what) => () => post(`${base}/${what}`.replace('{msg}', msgID)).then(load);

    function questionItem(q) {
      const mod = modTools ? [
        q.answered ? null : act('Mark answered', target(q.id, 'questions/{msg}/answer'), {class: 'mod', 'aria-label': `Mark answered: ${q.text}`}),
        q.pinned ? null : act('Pin', target(q.id, 'messages/{msg}/pin'), {class: 'mod', 'aria-label': `Pin: ${q.text}`}),
        act('Hide', target(q.id, 'messages/{msg}/hide'), {class: 'mod', 'aria-label': `Hide: ${q.text}`}),
      ] : [];
      return h('li', {class: 'question' + (q.answered ? ' answered' : '') + (q.pinned ? ' pinned' : ''), dataset: {id: q.id, upvotes: q.upvotes}},
        h('div', {class: 'votes'},
          h('span', {class: 'upvotes'}, String(q.upvotes), h('span', {class: 'sr-only'}, q.upvotes === 1 ? ' upvote' : ' upvotes')),
          // The arrow is an icon, not words: the name says what it does.
          // Pressed once we upvoted (pressing again changes nothing).
          act(h('span', {'aria-hidden': 'true'}, '▲'), target(q.id, 'questions/{msg}/upvote'),
            {class: 'upvote', 'aria-label': `Upvote: ${q.text}`, 'aria-pressed': q.upvoted ? 'true' : 'false', title: q.upvoted ? 'You upvoted this' : null})),
        h('div', {class: 'q-main'},
          h('p', {class: 'q-text', dir: 'auto'}, remote(q.text, {multiline: true})),
          h('p', {class: 'meta'}, personEl(q.sender), ' · ', timeEl(q.time),
            q.answered ? h('span', {class: 'tag answered-tag'}, 'Answered') : null,
            q.pinned ? h('span', {class: 'tag pinned-tag'}, 'Pinned') : null),
          mod.length ? h('div', {class: 'actions'}, mod) : null));
    }

    // chatItem is one line of the chat; its reactions and (with
    // "Moderator tools") moderation show on hover or focus, each control
    // named by its visible words first ("Mute 10 min: Captain").
    function chatItem(m) {
      const mod = [];
      const who = m.sender.display;
      if (modTools && !m.sender.me && m.sender.role !== 'host') {
        mod.push(act('Mute 10 min', () => post(`${base}/mute`, {peer: m.sender_id, until: new Date(Date.now() + 600000).toISOString()}).then(load),
          {class: 'mod', 'aria-label': `Mute 10 min: ${who}`}));
        if (isHost()) {
          // A role the sender has, or a higher one, is not offered.
          for (const role of ['speaker', 'moderator'].filter(r => !atLeast(m.sender.role, r))) {
            mod.push(act(`Make ${role}`, () => post(`${base}/grant`, {peer: m.sender_id, role, ttl_seconds: 7200}).then(load),
              {class: 'mod', 'aria-label': `Make ${role}: ${who}, for 2 hours`}));
          }
        }
      }
      if (modTools) mod.unshift(act('Hide', target(m.id, 'messages/{msg}/hide'), {class: 'mod', 'aria-label': `Hide: ${m.text}`}));
      const role = m.sender.role && m.sender.role !== 'listener' ? ` (${m.sender.role})` : '';
      return h('li', {class: 'chat-line', dataset: {id: m.id},
        'aria-label': describe(`${who}${role}, ${time(m.time)}: ${m.text}`,
          reactionsText(m.reactions))},
        personEl(m.sender),
        ' ', remote(m.text, {class: 'text', multiline: true}), ' ', timeEl(m.time),
        m.reactions.length ? h('span', {class: 'reactions'}, m.reactions.map(r => h('span', {class: r.mine ? 'mine' : null}, remote(r.emoji), ` ${r.count}`))) : null,
        actions(
          roomReactions.map(emoji => act(emoji, () => post(`${base}/messages/${m.id}/react`, {emoji}).then(load),
            {class: 'react', 'aria-label': `React ${emoji} to: ${m.text}`})),
          mod));
    }

    const load = throttle(async () => {
      try {
        const [detail, chat, qs] = await Promise.all([get(base), get(`${base}/chat?limit=200`), get(`${base}/questions`)]);
        const first = !info;
        info = detail;
        if (first && isHost()) { modTools = true; modToggle.checked = true; }
        setRemote(heading, info.name);
        document.title = visible(`${info.name} · Backchannel`);
        setRemote(desc, info.description || '', {multiline: true});
        const host = info.people.find(p => p.role === 'host');
        // A live region: redrawn only when it says something new, or every
        // chat line would have it read out again.
        const whoNow = h('span', {}, isHost() ? 'You host this room. ' : ['Hosted by ', remote(host ? host.display : app.name(info.host_id)), '. '],
          `${info.listeners} listening`);
        if (who.textContent !== whoNow.textContent) replace(who, whoNow);
        replace(people, info.people.map(p => h('li', {class: 'person', dataset: {peer: p.id, role: p.role}}, personEl(p, 'person-label'))),
          info.people_more ? h('li', {class: 'person more'}, `and ${info.people_more} more`) : null);
        replace(nameSum, nameSummary(info.as, info.my_name));
        if (!nameBox.open && info.as) asChoice.set(info.as);
        drawPrivate();
        tellNew(qs.questions);
        redraw(questions, qs.questions.length ? qs.questions.map(questionItem) : h('li', {class: 'empty'}, 'No questions yet.'),
          document.getElementById('questions-h'));
        // Shown before the chat is drawn, all in this one task (so in one
        // frame): the log needs its height to scroll to its end.
        body.hidden = false;
        const nearBottom = chatLog.scrollHeight - chatLog.scrollTop - chatLog.clientHeight < 80;
        replace(chatLog, chat.messages.map(chatItem));
        if (nearBottom || first) chatLog.scrollTop = chatLog.scrollHeight;
      } catch (err) {
        replace(who, h('span', {class: 'error'}, err.message));
        body.hidden = false;
      }
    }, 200);
    app.on(e => {
      if (e.type === 'resync' || (e.type === 'room_message' && e.room.room_id === id)) load();
    });
    load();
    return () => load.cancel();
  },
};
