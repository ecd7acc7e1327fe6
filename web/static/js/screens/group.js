// Group: one private group, live: its thread (lines, replies, reactions,
// events with RSVPs, how many members received and read what we sent, who
// was added or removed and who became an admin, between the lines) and
// its members (invite a contact, remove a member, make an admin, leave).

import {get, post, enc} from '../api.js';
import {h, replace, time, timeEl, debounce, action, showError, remote, setRemote, visible, claim, release} from '../dom.js';
import {messageList, actions, describe, reactionsText} from '../msglist.js';

const quickReactions = ['👍', '❤️', '😂', '😮'];
const answers = [['yes', 'Going'], ['maybe', 'Maybe'], ['no', 'Not going']];

// A screen's name, title and place in the navigation are app.js's.
export default {
  mount(main, app, ref) {
    const base = `/v1/groups/${enc(ref)}`;
    let info = null; // the group with its members
    let replyTo = null;
    let byID = new Map();

    // A member or an author shows as the node shows it (its "display": a
    // contact by our name, anyone else by the name it announced in the
    // group, marked with the end of its peer ID when another uses it), we
    // as "You"; a peer no longer in the group as the app names peers.
    const memberOf = p => info && info.members.find(m => m.peer_id === p);
    const memberName = p => {
      const m = memberOf(p);
      return (m && !m.me && m.display) || app.name(p);
    };
    const authorName = m => (m.sender && !m.sender.me && m.sender.display) || memberName(m.sender_id);
    const verifiedMark = person => person && person.verified
      ? h('span', {class: 'verified', title: 'Safety number verified'}, ' ✓') : null;
    const mine = () => info && info.members.find(m => m.peer_id === app.self?.peer_id);
    const canManage = () => info && info.state === 'joined' && (info.role === 'owner' || info.role === 'admin');

    const heading = h('h1', {tabindex: '-1', id: 'group-title'}, 'Group');
    const sub = h('p', {class: 'hint', id: 'group-sub'});
    // The state of our membership when it is not plain "joined".
    const stateNote = h('div', {class: 'notice-inline', id: 'group-state', role: 'status', hidden: true});
    const status = h('p', {class: 'room-status error', id: 'group-status', role: 'alert'});
    const act = (label, fn, attrs) => action(label, async () => {
      status.textContent = '';
      try {
        await fn();
      } catch (err) {
        status.textContent = visible(`${attrs && attrs['aria-label'] || label}: ${err.message}`);
      }
    }, attrs);

    // The thread: one Tab stop, arrows between the lines (msglist.js).
    const {wrapper: logBox, list: log} = messageList({id: 'group-log', className: 'thread-log group-log', label: 'Group messages'});
    const replyChip = h('div', {class: 'reply-chip', hidden: true});
    const input = h('input', {id: 'group-composer', name: 'text', autocomplete: 'off', required: true, placeholder: 'Write to the group', maxlength: 4000});
    const composer = h('form', {class: 'composer', id: 'group-composer-form'},
      replyChip,
      h('label', {for: 'group-composer', class: 'sr-only'}, 'Message to the group'),
      input,
      h('button', {type: 'submit', class: 'primary'}, 'Send'));
    const eventTitle = h('input', {id: 'event-title', autocomplete: 'off', required: true, maxlength: 200});
    const eventStart = h('input', {id: 'event-start', type: 'datetime-local', required: true});
    const eventForm = h('form', {class: 'form event-form', id: 'event-form'},
      h('div', {class: 'field'}, h('label', {for: 'event-title'}, 'Event title'), eventTitle),
      h('div', {class: 'field'}, h('label', {for: 'event-start'}, 'Starts'), eventStart),
      h('button', {type: 'submit'}, 'Post event'));
    const eventBox = h('details', {class: 'event-box', id: 'event-box'}, h('summary', {}, 'New event with RSVPs'), eventForm);
    const writeArea = h('div', {class: 'group-write'}, composer, eventBox);

    const members = h('ul', {class: 'plain members', id: 'group-members', 'aria-label': 'Members'});
    const contactsList = h('datalist', {id: 'group-contact-names'});
    const inviteInput = h('input', {id: 'group-invite', autocomplete: 'off', required: true, list: 'group-contact-names',
      placeholder: 'Contact name or peer ID'});
    const inviteStatus = h('p', {class: 'form-status', role: 'status'});
    const inviteForm = h('form', {class: 'form group-invite-form', id: 'group-invite-form'},
      h('div', {class: 'field'}, h('label', {for: 'group-invite'}, 'Invite contacts (separate with commas)'), inviteInput, contactsList),
      h('button', {type: 'submit'}, 'Invite'),
      inviteStatus);
    const leaveBox = h('details', {class: 'leave-box', id: 'leave-box'},
      h('summary', {}, 'Leave this group'),
      h('p', {class: 'hint'}, 'You keep what you have read; you get nothing new, and the others go on with a new key.'),
      act('Leave group', async () => {
        await post(`${base}/leave`);
        app.announce(`You left ${info ? info.name : 'the group'}`);
        loadInfo();
      }, {class: 'danger', id: 'leave-group'}));

    main.append(
      h('div', {class: 'thread-head'}, h('a', {href: '#/groups', class: 'back'}, '← Groups'), heading),
      sub, stateNote, status,
      h('div', {class: 'group-columns'},
        h('section', {class: 'group-thread', 'aria-label': 'Thread'}, logBox, writeArea),
        h('section', {class: 'panel', 'aria-labelledby': 'members-h'},
          h('h2', {id: 'members-h'}, 'Members'),
          members, inviteForm, leaveBox)));

    function setReply(m) {
      replyTo = m;
      replyChip.hidden = !m;
      if (m) {
        replace(replyChip, h('span', {}, 'Replying to: ', h('q', {}, remote(m.text))),
          h('button', {type: 'button', 'aria-label': 'Cancel reply', onclick: () => setReply(null)}, '×'));
        input.focus();
      }
    }

    async function send(body) {
      await post(`${base}/messages`, body);
      load();
    }

    function rsvpBlock(m) {
      const mineAnswer = (m.rsvps.find(r => r.peer_id === app.self?.peer_id) || {}).answer;
      const counts = answers.map(([a, label]) => {
        const who = m.rsvps.filter(r => r.answer === a).map(r => memberName(r.peer_id));
        return who.length ? h('span', {class: `rsvp-count rsvp-${a}`, title: who.join(', ')}, `${who.length} ${label.toLowerCase()}`) : null;
      }).filter(Boolean);
      return h('div', {class: 'rsvp'},
        h('p', {class: 'rsvp-summary', id: `rsvp-${m.id}`}, counts.length ? counts.flatMap((c, i) => i ? [' · ', c] : [c]) : 'No answers yet'),
        info && info.state === 'joined' ? h('div', {class: 'rsvp-buttons', role: 'group', 'aria-label': `Your answer to ${m.text}`},
          answers.map(([a, label]) => h('button', {
            type: 'button', class: `rsvp-${a}` + (mineAnswer === a ? ' primary' : ''), 'aria-pressed': mineAnswer === a ? 'true' : 'false',
            'aria-label': `${label}: ${m.text}`,
            onclick: ev => send({kind: 'rsvp', text: a, reply_to: m.id}).catch(err => showError(ev.target, err)),
          }, label))) : null);
    }

    // rsvpSummary counts an event's answers in words, for its message's
    // accessible name.
    function rsvpSummary(m) {
      const counts = answers.map(([a, label]) => [label, m.rsvps.filter(r => r.answer === a).length]).filter(([, n]) => n);
      return counts.length ? counts.map(([label, n]) => `${n} ${label.toLowerCase()}`).join(', ') : 'No answers yet';
    }

    // receiptText says how far what we sent went: "Read by 1 of 2".
    function receiptText(m) {
      const others = info ? info.members.filter(x => x.peer_id !== app.self?.peer_id).length : 0;
      const read = m.read_by.length;
      const got = m.delivered_to.length;
      const text = read ? `Read by ${read}` : got ? `Delivered to ${got}` : 'Sent';
      return others && (read || got) ? `${text} of ${others}` : text;
    }

    function receipts(m) {
      if (!m.outbound) return null;
      const read = m.read_by.length;
      const got = m.delivered_to.length;
      return h('span', {class: `state ${read ? 'state-read' : ''}`, dataset: {read, delivered: got},
        title: [got ? `Delivered to ${m.delivered_to.map(memberName).join(', ')}` : '', read ? `read by ${m.read_by.map(memberName).join(', ')}` : ''].filter(Boolean).join('; ')},
      receiptText(m));
    }

    function messageItem(m) {
      const who = m.outbound ? 'You' : authorName(m);
      if (m.kind === 'rename' || m.kind === 'left') {
        return h('li', {class: 'sys-line', dataset: {id: m.id, kind: m.kind},
          'aria-label': `${m.kind === 'rename' ? `${who} renamed the group “${m.text}”` : `${who} left the group`}, ${time(m.time)}`},
          m.kind === 'rename' ? [remote(who), ' renamed the group “', remote(m.text), '”'] : [remote(who), ' left the group'], ' ', timeEl(m.time));
      }
      const target = m.reply_to ? byID.get(m.reply_to) : null;
      const grouped = new Map();
      for (const r of m.reactions) {
        const g = grouped.get(r.emoji) || {n: 0, mine: false};
        g.n++;
        g.mine ||= r.peer_id === app.self?.peer_id;
        grouped.set(r.emoji, g);
      }
      const joined = info && info.state === 'joined';
      const mineAnswer = m.kind === 'event' && (m.rsvps.find(r => r.peer_id === app.self?.peer_id) || {}).answer;
      return h('li', {class: `msg ${m.outbound ? 'outbound' : 'inbound'} kind-${m.kind}`, dataset: {id: m.id, kind: m.kind},
        'aria-label': describe(`${who}, ${time(m.time)}: ${m.kind === 'event' ? `Event: ${m.text}` : m.text}`,
          m.kind === 'event' && m.start ? new Date(m.start).toLocaleString([], {dateStyle: 'full', timeStyle: 'short'}) : null,
          m.kind === 'event' ? rsvpSummary(m) + (mineAnswer ? `; you answered ${answers.find(([a]) => a === mineAnswer)[1]}` : '') : null,
          m.reply_to ? (target ? `Replying to: ${target.text}` : 'Replying to an earlier message') : null,
          m.outbound ? receiptText(m) : null,
          reactionsText([...grouped].map(([emoji, g]) => ({emoji, count: g.n, mine: g.mine}))))},
        m.outbound ? null : h('p', {class: 'sender', title: m.sender_id}, remote(who), verifiedMark(m.sender)),
        m.reply_to ? h('blockquote', {class: 'quote'}, target ? remote(target.text, {multiline: true}) : 'an earlier message') : null,
        m.kind === 'event'
          ? h('div', {class: 'event'},
            h('p', {class: 'body event-title'}, h('span', {'aria-hidden': 'true'}, '📅 '), remote(m.text)),
            h('p', {class: 'event-when'}, m.start ? new Date(m.start).toLocaleString([], {dateStyle: 'full', timeStyle: 'short'}) : ''),
            rsvpBlock(m))
          : h('p', {class: 'body', dir: 'auto'}, remote(m.text, {multiline: true})),
        h('div', {class: 'meta'},
          h('span', {class: 'sr-only'}, `${who} `), timeEl(m.time), receipts(m)),
        grouped.size ? h('ul', {class: 'reactions', 'aria-label': 'Reactions'},
          [...grouped].map(([emoji, g]) => h('li', {class: g.mine ? 'mine' : ''},
            h('span', {'aria-hidden': 'true'}, remote(emoji)), h('span', {class: 'count'}, g.n),
            h('span', {class: 'sr-only'}, ` ${emoji}${g.mine ? ' including you' : ''}`)))) : null,
        joined ? actions(
          h('button', {type: 'button', class: 'link reply', onclick: () => setReply(m), 'aria-label': `Reply to: ${m.text}`}, 'Reply'),
          quickReactions.map(emoji => h('button', {
            type: 'button', class: 'react', 'aria-label': `React ${emoji} to: ${m.text}`,
            onclick: ev => send({kind: 'reaction', text: emoji, reply_to: m.id}).catch(err => showError(ev.target, err)),
          }, emoji))) : null);
    }

    // changeItems are the lines of one roster change: who was added,
    // removed, made or unmade an admin. A member who left already has
    // their "left the group" line, so their removal is not repeated.
    function changeItems(c, leavers) {
      const me = app.self?.peer_id;
      const who = p => p === me ? 'you' : memberName(p);
      const Who = p => p === me ? 'You' : memberName(p);
      const line = (kind, ...parts) => h('li', {class: 'sys-line change', dataset: {kind, epoch: c.epoch}}, parts);
      const out = [];
      if (c.added.length) {
        const names = c.added.flatMap((p, i) => [i ? (i === c.added.length - 1 ? ' and ' : ', ') : '', remote(who(p))]);
        out.push(line('added', remote(Who(c.signer_id)), ' added ', names));
      }
      for (const p of c.removed) {
        if (leavers.has(p)) continue;
        out.push(line('removed', p === me ? 'You were removed' : [remote(memberName(p)), ' was removed']));
      }
      for (const p of c.admins) out.push(line('admin', p === me ? 'You are now an admin' : [remote(memberName(p)), ' is now an admin']));
      for (const p of c.not_admin) out.push(line('not_admin', p === me ? 'You are no longer an admin' : [remote(memberName(p)), ' is no longer an admin']));
      return out;
    }

    // timeline puts each roster change before the first message of its
    // epoch (messages oldest first), and the newest changes at the end.
    function timeline(messages, changes) {
      const leavers = new Set(messages.filter(m => m.kind === 'left').map(m => m.sender_id));
      const out = [];
      let i = 0;
      for (const m of messages) {
        for (; i < changes.length && changes[i].epoch <= m.epoch; i++) out.push(...changeItems(changes[i], leavers));
        out.push(messageItem(m));
      }
      for (; i < changes.length; i++) out.push(...changeItems(changes[i], leavers));
      return out;
    }

    function memberItem(m) {
      const me = m.peer_id === app.self?.peer_id;
      const name = me ? 'You' : memberName(m.peer_id);
      const manage = canManage() && !me && m.role !== 'owner' && (info.role === 'owner' || m.role !== 'admin');
      return h('li', {class: 'member', dataset: {peer: m.peer_id, role: m.role}},
        h('span', {class: 'member-name', title: m.peer_id}, remote(name)), verifiedMark(m),
        m.role !== 'member' ? h('span', {class: 'tag'}, m.role) : null,
        h('span', {class: 'member-actions'},
          info.role === 'owner' && info.state === 'joined' && !me ? act(m.role === 'admin' ? 'Revoke admin' : 'Make admin',
            () => post(`${base}/members/${enc(m.peer_id)}/admin`, {admin: m.role !== 'admin'}).then(loadInfo),
            {class: 'mod', 'aria-label': `${m.role === 'admin' ? 'Revoke admin from' : 'Make admin:'} ${name}`}) : null,
          manage ? act('Remove', async () => {
            await post(`${base}/members/${enc(m.peer_id)}/remove`);
            app.announce(`Removed ${name}`);
            loadInfo();
          }, {class: 'mod danger remove-member', 'aria-label': `Remove ${name}`}) : null));
    }

    const loadInfo = debounce(async () => {
      const before = info && info.state;
      try {
        info = await get(base);
      } catch (err) {
        status.textContent = visible(err.message);
        return;
      }
      setRemote(heading, info.name);
      document.title = visible(`${info.name} · Backchannel`);
      // Our role only once we are in: an invitee's roster already names
      // it a member, but it has not joined yet.
      replace(sub, `${info.member_count} member${info.member_count === 1 ? '' : 's'}`,
        info.state === 'joined' && info.role !== 'none' ? ` · you are ${info.role === 'member' ? 'a member' : `the ${info.role}`}` : '');
      const joined = info.state === 'joined';
      stateNote.hidden = joined && !info.key_pending;
      if (info.state === 'invited') {
        replace(stateNote, info.inviter_id ? remote(app.name(info.inviter_id)) : 'Someone', ' invited you to this group. ',
          act('Join', async () => { await post(`${base}/accept`); loadInfo(); load(); }, {class: 'primary', id: 'group-join'}), ' ',
          act('Decline', async () => { await post(`${base}/decline`); app.go('#/groups'); }, {id: 'group-decline'}));
      } else if (info.state === 'removed') {
        replace(stateNote, 'You are no longer a member of this group: you were removed. What you read before stays here; nothing new reaches you.');
      } else if (info.state === 'left') {
        replace(stateNote, 'You left this group. What you read before stays here; nothing new reaches you.');
      } else if (info.state === 'declined') {
        replace(stateNote, 'You declined this invitation.');
      } else if (info.key_pending) {
        replace(stateNote, 'Waiting for the group\'s newest key from an admin: you can send once it arrives.');
      }
      stateNote.dataset.state = info.key_pending && joined ? 'key_pending' : info.state;
      writeArea.hidden = !joined;
      leaveBox.hidden = !joined;
      inviteForm.hidden = !canManage();
      // The focus where this state is answered: the composer (put there on
      // opening), Join for an invitation, else the heading. Only when our
      // state changed and the focus was left where nothing shows any more.
      const a = document.activeElement;
      const adrift = !a || a === document.body || (a === input && !joined) || (stateNote.contains(a) && stateNote.hidden);
      if (info.state !== before && adrift) {
        if (joined) input.focus();
        else if (info.state === 'invited') stateNote.querySelector('#group-join').focus();
        else heading.focus();
      }
      replace(members, info.members.map(memberItem));
      const inGroup = new Set(info.members.map(m => m.peer_id));
      replace(contactsList, [...app.contacts.values()].filter(c => c.state === 'accepted' && !inGroup.has(c.peer_id))
        .map(c => h('option', {value: c.name || c.profile_name || c.peer_id}, c.peer_id)));
      load();
    }, 50);

    let marking = false;
    const load = debounce(async () => {
      let messages, changes;
      try {
        [{messages}, {changes}] = await Promise.all([get(`${base}/messages?limit=200`), get(`${base}/changes`)]);
      } catch (err) {
        status.textContent = visible(err.message);
        return;
      }
      messages.reverse();
      byID = new Map(messages.map(m => [m.id, m]));
      const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
      replace(log, timeline(messages, changes));
      if (!messages.length) log.append(h('li', {class: 'empty sys-line'}, 'No messages yet.'));
      if (nearBottom || !log.dataset.loaded) log.scrollTop = log.scrollHeight;
      log.dataset.loaded = '1';
      if (document.visibilityState === 'visible' && info && info.unread > 0 && !marking) {
        marking = true;
        post(`${base}/read`).then(() => { if (info) info.unread = 0; }).catch(() => {}).finally(() => { marking = false; });
      }
    }, 50);

    composer.addEventListener('submit', async ev => {
      ev.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      const btn = composer.querySelector('button[type=submit]');
      if (!claim(btn)) return;
      try {
        await send(replyTo ? {text, kind: 'reply', reply_to: replyTo.id} : {text});
        input.value = '';
        setReply(null);
      } catch (err) {
        showError(btn, err);
      } finally {
        release(btn);
        input.focus();
      }
    });

    eventForm.addEventListener('submit', async ev => {
      ev.preventDefault();
      const btn = eventForm.querySelector('button[type=submit]');
      if (!claim(btn)) return;
      try {
        const start = new Date(eventStart.value);
        if (isNaN(start)) throw new Error('Pick when it starts');
        await send({kind: 'event', text: eventTitle.value.trim(), start: start.toISOString()});
        eventTitle.value = '';
        eventStart.value = '';
        eventBox.open = false;
      } catch (err) {
        showError(btn, err);
      } finally {
        release(btn);
      }
    });

    inviteForm.addEventListener('submit', async ev => {
      ev.preventDefault();
      const peers = inviteInput.value.split(',').map(s => s.trim()).filter(Boolean);
      if (!peers.length) return;
      const btn = inviteForm.querySelector('button[type=submit]');
      if (!claim(btn)) return;
      inviteStatus.classList.remove('error');
      inviteStatus.textContent = '';
      try {
        await post(`${base}/members`, {peers});
        inviteInput.value = '';
        inviteStatus.textContent = visible(`Invited ${peers.join(', ')}`);
        loadInfo();
      } catch (err) {
        inviteStatus.classList.add('error');
        inviteStatus.textContent = visible(err.message);
      } finally {
        release(btn);
      }
    });

    app.on(e => {
      if (e.type === 'resync' || e.type === 'contact') { loadInfo(); return; }
      if (!e.type.startsWith('group_') || !e.group || e.group.group_id !== (info ? info.id : ref)) return;
      // A receipt changes only the thread; anything else may change the
      // group too (unread count, roster, epoch, our state).
      if (e.type === 'group_receipt') load();
      else loadInfo();
    });
    const onVisible = () => { if (document.visibilityState === 'visible') loadInfo(); };
    document.addEventListener('visibilitychange', onVisible);
    loadInfo();
    input.focus();
    return () => {
      load.cancel();
      loadInfo.cancel();
      document.removeEventListener('visibilitychange', onVisible);
    };
  },
};
