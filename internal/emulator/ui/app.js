// The gchat emulator page. Plain DOM, no framework, no build step.
// Every URL is relative, so the page works under any base path.
// Names, URLs and thread keys are set with textContent or attribute setters;
// the only raw HTML inserted is a message's `html`, which the server renders
// and sanitises (see insertMessageHTML).
'use strict';

(() => {
  const $ = (sel) => document.querySelector(sel);

  const THREADING = {
    THREADED_MESSAGES: 'Threaded',
    GROUPED_MESSAGES: 'In-line threads',
    UNTHREADED_MESSAGES: 'Unthreaded',
  };

  const state = {
    spaces: new Map(), // id → Space, in server order
    current: null, // id of the selected space
    seen: new Set(), // names of messages shown for the current space
    threads: new Map(), // thread name → thread block element
    load: 0, // bumped on every (re)load, so stale answers are dropped
    pending: null, // live messages that arrive while the space loads
  };

  // el builds an element. Strings in children become text nodes.
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) if (c != null) e.append(c);
    return e;
  }

  // api calls the JSON API. State-changing calls always carry
  // Content-Type: application/json, which the server requires.
  async function api(method, path, body) {
    const opts = { method, headers: {} };
    if (method !== 'GET') opts.headers['Content-Type'] = 'application/json';
    if (body !== undefined) opts.body = JSON.stringify(body);
    const res = await fetch(path, opts);
    if (!res.ok) {
      let msg = `${res.status} ${res.statusText}`;
      try {
        const e = await res.json();
        if (e && e.error && e.error.message) msg = e.error.message;
      } catch (_) { /* not JSON */ }
      throw new Error(msg);
    }
    return res.status === 204 ? null : res.json();
  }

  const spacePath = (id) => `api/v1/spaces/${encodeURIComponent(id)}`;

  const isHTTP = (url) => typeof url === 'string' && /^https?:\/\/[^/]/i.test(url);

  const initials = (name) => String(name || '').trim().split(/\s+/).filter(Boolean)
    .slice(0, 2).map((w) => Array.from(w)[0]).join('').toUpperCase() || '?';

  // avatar shows the initials, covered by the image at url when that is an
  // http(s) URL and loads (offline it will not).
  function avatar(name, url, cls) {
    const box = el('span', { class: `avatar ${cls || ''}`, 'aria-hidden': 'true' }, initials(name));
    if (isHTTP(url)) {
      const img = el('img', { alt: '', referrerpolicy: 'no-referrer' });
      img.addEventListener('error', () => img.remove(), { once: true });
      img.addEventListener('load', () => box.classList.add('loaded'), { once: true });
      img.src = url;
      box.append(img);
    }
    return box;
  }

  function formatTime(iso) {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return '';
    // "10:55 AM" today; "Nov 27, 10:55 AM" on other days; the year when not this one.
    const now = new Date();
    const t = d.toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' });
    if (d.toDateString() === now.toDateString()) return t;
    const date = { month: 'short', day: 'numeric' };
    if (d.getFullYear() !== now.getFullYear()) date.year = 'numeric';
    return `${d.toLocaleDateString([], date)}, ${t}`;
  }

  function showError(form, err) {
    const p = form.querySelector('.form-error');
    p.textContent = err ? err.message : '';
    p.hidden = !err;
  }

  // ---- spaces list ----

  function renderSpaces() {
    const ul = $('#spaces');
    ul.replaceChildren();
    for (const s of state.spaces.values()) {
      const a = el('a', { href: `#space=${encodeURIComponent(s.id)}`, class: 'space-link', 'data-space': s.id },
        avatar(s.displayName, '', 'small'),
        el('span', { class: 'space-name', text: s.displayName || s.id }),
        el('span', { class: 'count', title: 'messages', text: String(s.messageCount || 0) }));
      if (s.id === state.current) a.setAttribute('aria-current', 'page');
      ul.append(el('li', null, a));
    }
    $('#no-spaces').hidden = state.spaces.size > 0;
  }

  // changeWebhooks applies a change the API confirmed to the cached space.
  // The "space" event brings the same change; neither refetches the list,
  // whose answer could be older than the message events already counted.
  function changeWebhooks(id, change) {
    const s = state.spaces.get(id);
    if (s) upsertSpace({ ...s, webhooks: change(s.webhooks || []) });
  }

  function upsertSpace(s) {
    state.spaces.set(s.id, s);
    renderSpaces();
    if (s.id === state.current) renderSpaceHead(s);
  }

  // ---- the selected space ----

  function renderSpaceHead(s) {
    $('#space-name').textContent = s.displayName || s.id;
    const meta = [THREADING[s.threading] || s.threading, s.kind === 'DIRECT_MESSAGE' ? 'direct message' : 'space', s.name];
    if (s.kind === 'DIRECT_MESSAGE' && !s.appsEnabled) meta.push('apps disabled: webhooks answer 403');
    $('#space-meta').textContent = meta.filter(Boolean).join(' · ');
    renderWebhooks(s);
  }

  function renderWebhooks(s) {
    const hooks = s.webhooks || [];
    const ul = $('#webhooks');
    ul.replaceChildren(...hooks.map((w) => webhookItem(s, w)));
    $('#no-webhooks').hidden = hooks.length > 0;
    $('#curl-example').textContent = hooks.length
      ? `curl -H 'Content-Type: application/json' -d '{"text": "Hello from curl"}' '${hooks[0].url}'`
      : '';
  }

  function webhookItem(space, w) {
    const input = el('input', { class: 'webhook-url', readonly: true, 'aria-label': `URL of ${w.name}`, spellcheck: 'false' });
    input.value = w.url;
    input.addEventListener('focus', () => input.select());
    const copy = el('button', { type: 'button', class: 'copy', text: 'Copy' });
    copy.addEventListener('click', () => copyURL(input, copy));
    const del = el('button', { type: 'button', class: 'quiet danger', text: 'Delete' });
    del.addEventListener('click', async () => {
      if (!confirm(`Delete webhook "${w.name}"? Its URL stops working.`)) return;
      try {
        await api('DELETE', `${spacePath(space.id)}/webhooks/${encodeURIComponent(w.id)}`);
        changeWebhooks(space.id, (hooks) => hooks.filter((h) => h.id !== w.id));
      } catch (err) {
        alert(`Could not delete the webhook: ${err.message}`);
      }
    });
    return el('li', { class: 'webhook', 'data-webhook': w.id },
      avatar(w.name, w.avatarUrl),
      el('span', { class: 'webhook-name', text: w.name }),
      input, copy, del);
  }

  async function copyURL(input, button) {
    let done = false;
    try {
      await navigator.clipboard.writeText(input.value);
      done = true;
    } catch (_) { /* no clipboard (not a secure context) or denied: select instead */ }
    if (!done) {
      input.focus();
      input.select();
    }
    button.textContent = done ? 'Copied' : 'Selected: press Ctrl+C';
    setTimeout(() => { button.textContent = 'Copy'; }, 1500);
  }

  async function selectSpace(id) {
    state.current = id;
    state.pending = null;
    const token = ++state.load;
    state.seen.clear();
    state.threads.clear();
    $('#messages').replaceChildren();
    renderSpaces();
    closeRequest();
    const s = state.spaces.get(id);
    $('#static-link').setAttribute('href', `?live=0&space=${encodeURIComponent(id || '')}`);
    $('#placeholder').hidden = !!s;
    $('#space').hidden = !s;
    if (!s) return;
    $('#messages').dataset.threading = s.threading || 'THREADED_MESSAGES';
    renderSpaceHead(s);
    state.pending = [];
    try {
      const { messages } = await api('GET', `${spacePath(id)}/messages?limit=500`);
      if (token !== state.load) return;
      for (const m of messages || []) addMessage(m);
    } catch (err) {
      if (token !== state.load) return;
      $('#messages').append(el('p', { class: 'form-error', text: `Could not load the messages: ${err.message}` }));
    }
    const pending = state.pending;
    state.pending = null;
    for (const m of pending) addMessage(m);
    updateEmpty();
    openFromHash();
  }

  function updateEmpty() {
    $('#no-messages').hidden = state.seen.size > 0;
  }

  // ---- messages ----

  // addMessage shows m in the current space: in Chat's threaded and in-line
  // threaded spaces, a message that continues a thread goes under the
  // thread's first message and the thread moves to the bottom; in unthreaded
  // spaces the stream is flat.
  function addMessage(m) {
    if (!m || m.space !== state.current || state.seen.has(m.name)) return;
    if (state.pending) {
      state.pending.push(m); // keep oldest-first order: shown after the load
      return;
    }
    state.seen.add(m.name);
    const stream = $('#messages');
    const item = messageItem(m);
    const space = state.spaces.get(state.current) || {};
    const threadName = m.thread && m.thread.name;
    if (space.threading === 'UNTHREADED_MESSAGES' || !threadName) {
      stream.append(item);
      return;
    }
    const grouped = space.threading === 'GROUPED_MESSAGES';
    let block = state.threads.get(threadName);
    if (!block) {
      block = threadBlock(m, item, grouped);
      state.threads.set(threadName, block);
      stream.append(block);
    } else {
      const replies = block.querySelector('.replies');
      item.classList.add('reply');
      replies.querySelector('.reply-list').append(item);
      const n = replies.querySelectorAll('.reply-list > .msg').length;
      replies.querySelector('summary').textContent = n === 1 ? '1 reply' : `${n} replies`;
      replies.hidden = false;
      // A reply moves its thread to the bottom, as in Chat's threaded spaces;
      // in-line threads keep their place. append moves an existing node.
      if (!grouped) stream.append(block);
    }
  }

  function threadBlock(m, head, collapsed) {
    const block = el('div', { class: 'thread', 'data-thread': m.thread.name });
    if (m.thread.threadKey) block.setAttribute('data-thread-key', m.thread.threadKey);
    const replies = el('details', { class: 'replies', open: !collapsed, hidden: true },
      el('summary'), el('div', { class: 'reply-list' }));
    block.append(head, replies);
    return block;
  }

  function messageItem(m) {
    const sender = m.sender || {};
    const tag = sender.type === 'BOT' ? 'App' : sender.type === 'HUMAN' ? '' : sender.type;
    const time = el('time', { datetime: m.createTime, title: m.createTime, text: formatTime(m.createTime) });
    const head = el('div', { class: 'msg-head' },
      el('bdi', { class: 'sender', text: sender.displayName || sender.name || 'Unknown' }),
      tag ? el('span', { class: 'tag', title: `sender type ${sender.type}`, text: tag }) : null,
      time);
    if (m.thread && m.thread.threadKey && !m.threadReply) {
      head.append(el('span', { class: 'thread-key', title: 'thread key', text: m.thread.threadKey }));
    }
    const req = el('button', { type: 'button', class: 'quiet open-request', title: 'The request that posted this message', text: 'Request' });
    req.addEventListener('click', () => openRequest(m));
    const del = el('button', { type: 'button', class: 'quiet danger delete-message', title: 'Delete this message', text: 'Delete' });
    del.addEventListener('click', async () => {
      try {
        await api('DELETE', `${spacePath(m.space)}/messages/${encodeURIComponent(shortName(m.name))}`);
        removeMessage(m.space, m.name);
      } catch (err) {
        alert(`Could not delete the message: ${err.message}`);
      }
    });
    head.append(el('span', { class: 'msg-actions' }, req, del));
    const body = el('div', { class: 'msg-body' });
    insertMessageHTML(body, m.html);
    const main = el('div', { class: 'msg-main' }, head, body);
    const item = el('article', { class: 'msg', 'data-name': m.name }, avatar(sender.displayName, sender.avatarUrl), main);
    const problems = problemList(m.problems);
    if (problems) item.append(problems);
    return item;
  }

  // insertMessageHTML is the one place raw HTML enters the page: the
  // message as rendered and sanitised by the emulator's renderer.
  function insertMessageHTML(body, html) {
    body.innerHTML = html || '';
  }

  function problemList(problems) {
    if (!problems || problems.length === 0) return null;
    const errors = problems.filter((p) => p.severity === 'error');
    const warnings = problems.filter((p) => p.severity !== 'error');
    const box = el('aside', { class: 'problems', 'aria-label': 'Problems' });
    const group = (list, cls, title) => {
      if (list.length === 0) return;
      box.append(el('p', { class: `problems-title ${cls}`, text: title }));
      box.append(el('ul', { class: cls }, ...list.map((p) =>
        el('li', null, p.path ? el('code', { text: p.path }) : null, p.path ? ': ' : null, p.message))));
    };
    group(errors, 'error', 'Google would refuse or show this empty');
    group(warnings, 'warning', 'Google would accept this, but:');
    return box;
  }

  // ---- the request behind a message ----

  // shortName is the last part of a message name, "M.T".
  const shortName = (name) => String(name).slice(String(name).lastIndexOf('/') + 1);

  // removeMessage takes a deleted message off the page and its count.
  function removeMessage(space, name) {
    if ($('#request-view').dataset.message === name) closeRequest();
    const s = state.spaces.get(space);
    const item = space === state.current && document.querySelector(`#messages .msg[data-name="${CSS.escape(name)}"]`);
    if (s && (space !== state.current || item)) {
      s.messageCount = Math.max(0, (s.messageCount || 0) - 1);
      renderSpaces();
    }
    if (!item) return;
    state.seen.delete(name);
    const block = item.closest('.thread');
    if (block && block.firstElementChild === item) {
      // The thread's first message goes: its first reply heads the thread.
      const next = block.querySelector('.reply-list > .msg');
      if (next) {
        next.classList.remove('reply');
        block.replaceChild(next, item);
      } else {
        block.remove();
        state.threads.delete(block.dataset.thread);
      }
    } else {
      item.remove();
    }
    if (block) {
      const n = block.querySelectorAll('.reply-list > .msg').length;
      const replies = block.querySelector('.replies');
      if (replies) {
        replies.querySelector('summary').textContent = n === 1 ? '1 reply' : `${n} replies`;
        replies.hidden = n === 0;
      }
    }
    updateEmpty();
  }

  function prettyJSON(text) {
    try { return JSON.stringify(JSON.parse(text), null, 2); } catch (_) { return text; }
  }

  function pairTable(pairs) {
    if (!pairs || pairs.length === 0) return el('p', { class: 'hint', text: 'none' });
    return el('table', { class: 'pairs' }, ...pairs.map((p) =>
      el('tr', null, el('th', { text: p.name }), el('td', { text: p.value }))));
  }

  function statusText(code) {
    return code ? String(code) : 'no answer';
  }

  // openRequest shows the request that posted m: method, path, query and
  // headers (credentials masked by the server), the body as sent, the
  // answer, and what the checker found.
  async function openRequest(m) {
    const view = $('#request-view');
    for (const e of document.querySelectorAll('#messages .msg.selected')) e.classList.remove('selected');
    const item = document.querySelector(`#messages .msg[data-name="${CSS.escape(m.name)}"]`);
    if (item) item.classList.add('selected');
    view.hidden = false;
    view.dataset.message = m.name;
    $('#rv-id').textContent = '';
    $('#rv-status').textContent = '';
    $('#rv-error').hidden = true;
    $('#rv-body').replaceChildren(el('p', { class: 'hint', text: 'Loading…' }));
    let d;
    try {
      d = await api('GET', `${spacePath(m.space)}/messages/${encodeURIComponent(shortName(m.name))}/request`);
    } catch (err) {
      if (view.dataset.message !== m.name) return;
      $('#rv-body').replaceChildren();
      $('#rv-error').textContent = err.message;
      $('#rv-error').hidden = false;
      return;
    }
    if (view.dataset.message !== m.name) return; // another message was opened since
    const r = d.record || {};
    $('#rv-id').textContent = r.id || '';
    const st = $('#rv-status');
    st.textContent = statusText(r.status) + (r.fault ? ` · fault ${r.fault}` : '');
    st.dataset.class = r.status ? `${Math.floor(r.status / 100)}xx` : 'none';
    const when = el('time', { datetime: r.start, title: r.start, text: formatTime(r.start) });
    const body = [
      el('p', { class: 'request-line' }, el('code', { text: `${d.method} ${d.path}` })),
      el('p', { class: 'meta' }, when, ` · ${Number(r.durationMs || 0).toFixed(1)} ms` + (r.webhook ? ` · webhook ${r.webhook}` : '')),
      el('h4', { text: 'Query' }), pairTable(d.query),
      el('h4', { text: 'Headers' }), pairTable(d.header),
      el('h4', null, 'Body ', el('span', { class: 'meta', text: `${d.bodyBytes} bytes${d.bodyTruncated ? ', cut' : ''}` })),
      el('pre', { class: 'body request-body', text: prettyJSON(d.body || '') }),
      el('h4', null, 'Answer ', el('span', { class: 'meta', text: statusText(d.answer && d.answer.status) })),
    ];
    if (d.answer && d.answer.status) {
      body.push(pairTable(d.answer.header), el('pre', { class: 'body answer-body', text: prettyJSON(d.answer.body || '') }));
    }
    body.push(el('h4', { text: 'Problems' }));
    const ps = d.problems || [];
    body.push(ps.length === 0
      ? el('p', { class: 'hint', text: 'The checker found none.' })
      : el('ul', { class: 'problem-list' }, ...ps.map((p) => el('li', { class: p.severity },
        `${p.severity}: `, p.path ? el('code', { text: p.path }) : null, p.path ? ': ' : null, p.message))));
    $('#rv-body').replaceChildren(...body);
  }

  function closeRequest() {
    $('#request-view').hidden = true;
    delete $('#request-view').dataset.message;
    for (const e of document.querySelectorAll('#messages .msg.selected')) e.classList.remove('selected');
  }

  // ---- search across spaces ----

  let searchSeq = 0;
  async function search(q) {
    const seq = ++searchSeq;
    const panel = $('#search-results');
    if (!q) {
      panel.hidden = true;
      return;
    }
    let messages;
    try {
      ({ messages } = await api('GET', `api/v1/messages?q=${encodeURIComponent(q)}&limit=100`));
    } catch (err) {
      if (seq !== searchSeq) return;
      $('#results-title').textContent = `Search failed: ${err.message}`;
      $('#result-list').replaceChildren();
      panel.hidden = false;
      return;
    }
    if (seq !== searchSeq) return;
    const n = (messages || []).length;
    $('#results-title').textContent = `${n === 100 ? 'The newest 100' : n} message${n === 1 ? '' : 's'} matching “${q}”`;
    $('#result-list').replaceChildren(...(messages || []).map((m) => {
      const s = state.spaces.get(m.space);
      const a = el('a', { href: `#space=${encodeURIComponent(m.space)}&msg=${encodeURIComponent(m.name)}`, class: 'result', 'data-name': m.name },
        el('span', { class: 'result-space', text: s ? s.displayName : m.space }),
        el('bdi', { class: 'sender', text: (m.sender && m.sender.displayName) || '' }),
        el('time', { datetime: m.createTime, title: m.createTime, text: formatTime(m.createTime) }),
        el('span', { class: 'snippet', text: snippetOf(m) }));
      return el('li', null, a);
    }));
    panel.hidden = false;
  }

  function snippetOf(m) {
    let body = {};
    try { body = typeof m.body === 'string' ? JSON.parse(m.body) : (m.body || {}); } catch (_) { /* keep {} */ }
    let t = body.text || '';
    const c = (body.cardsV2 || [])[0];
    if (!t && c && c.card && c.card.header) t = c.card.header.title || '';
    const chars = Array.from(t);
    return chars.length > 120 ? `${chars.slice(0, 120).join('')}…` : t;
  }

  let searchTimer = null;
  $('#search').addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearTimeout(searchTimer);
    search($('#search input').value.trim());
  });
  $('#search input').addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => search($('#search input').value.trim()), 250);
  });
  $('#close-search').addEventListener('click', () => {
    $('#search input').value = '';
    search('');
  });
  $('#close-request').addEventListener('click', closeRequest);
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && !$('#request-view').hidden) closeRequest();
  });

  // openFromHash opens the message a #space=S&msg=NAME link names, once its
  // space is shown.
  function openFromHash() {
    const m = /(?:^#|&)msg=([^&]*)/.exec(location.hash);
    if (!m) return;
    const name = decodeURIComponent(m[1]);
    const item = document.querySelector(`#messages .msg[data-name="${CSS.escape(name)}"]`);
    if (!item) return;
    item.scrollIntoView({ block: 'center' });
    openRequest({ name, space: state.current });
  }

  // ---- loading and live updates ----

  async function reloadAll() {
    try {
      const { spaces } = await api('GET', 'api/v1/spaces');
      state.spaces = new Map((spaces || []).map((s) => [s.id, s]));
    } catch (err) {
      setConn('error', `cannot load: ${err.message}`);
      return;
    }
    const first = state.spaces.keys().next().value;
    await selectSpace(hashSpace() || state.current || first || null);
  }

  function hashSpace() {
    const m = /(?:^#|&)space=([^&]*)/.exec(location.hash);
    return m ? decodeURIComponent(m[1]) : null;
  }

  function setConn(s, text) {
    const c = $('#conn');
    c.dataset.state = s;
    c.textContent = text;
  }

  let retry = 1000;
  function connect() {
    const es = new EventSource('api/v1/events');
    let broken = false;
    es.addEventListener('open', () => {
      setConn('live', 'live');
      retry = 1000;
      if (broken) reloadAll(); // events may have been missed
    });
    es.addEventListener('error', () => {
      broken = true;
      setConn('connecting', 'reconnecting…');
      if (es.readyState === EventSource.CLOSED) {
        // The browser gave up (non-200 answer): try again with backoff.
        setTimeout(connect, retry);
        retry = Math.min(retry * 2, 30000);
      }
    });
    const on = (name, fn) => es.addEventListener(name, (ev) => {
      let data;
      try { data = JSON.parse(ev.data); } catch (_) { return; }
      fn(data);
    });
    on('message', (m) => {
      const s = state.spaces.get(m.space);
      if (s && !(m.space === state.current && state.seen.has(m.name))) {
        s.messageCount = (s.messageCount || 0) + 1;
        renderSpaces();
      }
      addMessage(m);
      updateEmpty();
    });
    on('space', (s) => {
      if (!s.deleted) return upsertSpace(s);
      state.spaces.delete(s.id);
      if (s.id === state.current) selectSpace(null);
      else renderSpaces();
    });
    on('delete', (d) => removeMessage(d.space, d.name));
    on('reset', () => reloadAll());
  }

  // ---- forms ----

  // onSubmit runs fn with the form's fields, then clears the form or shows
  // the API's error under it.
  function onSubmit(sel, fn) {
    $(sel).addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const form = ev.currentTarget;
      const field = (name) => String(new FormData(form).get(name) || '').trim();
      try {
        await fn(field);
        showError(form, null);
        form.reset();
      } catch (err) {
        showError(form, err);
      }
    });
  }

  onSubmit('#new-space', async (field) => {
    const s = await api('POST', 'api/v1/spaces', { displayName: field('displayName'), threading: field('threading') });
    upsertSpace(s);
    location.hash = `space=${encodeURIComponent(s.id)}`;
  });

  onSubmit('#new-webhook', async (field) => {
    const id = state.current;
    const body = { name: field('name') };
    if (field('avatarUrl')) body.avatarUrl = field('avatarUrl');
    const w = await api('POST', `${spacePath(id)}/webhooks`, body);
    changeWebhooks(id, (hooks) => hooks.filter((h) => h.id !== w.id).concat(w));
  });

  $('#delete-space').addEventListener('click', async () => {
    const s = state.spaces.get(state.current);
    if (!s || !confirm(`Delete space "${s.displayName}" with its webhooks and messages?`)) return;
    try {
      await api('DELETE', spacePath(s.id));
      history.replaceState(null, '', location.pathname + location.search);
      state.spaces.delete(s.id);
      await selectSpace(null);
    } catch (err) {
      alert(`Could not delete the space: ${err.message}`);
    }
  });

  $('#clear-space').addEventListener('click', async () => {
    const s = state.spaces.get(state.current);
    if (!s || !confirm(`Delete every message of "${s.displayName}"? Its webhooks stay.`)) return;
    try {
      await api('DELETE', `${spacePath(s.id)}/messages`);
    } catch (err) {
      alert(`Could not clear the space: ${err.message}`);
    }
    // The "reset" event reloads the page's state.
  });

  window.addEventListener('hashchange', () => {
    const id = hashSpace();
    if (id !== state.current) selectSpace(id);
    else openFromHash();
  });

  connect();
  reloadAll();
})();
