// The relay console's script: live updates and small helpers. Every page
// works without it; the server renders everything.
'use strict';

(function () {
  // Relative ages next to absolute times.
  function ages(root) {
    const now = Date.now();
    for (const t of root.querySelectorAll('time[datetime]')) {
      const s = Math.round((now - Date.parse(t.getAttribute('datetime'))) / 1000);
      let a;
      if (Math.abs(s) < 60) a = s + 's';
      else if (Math.abs(s) < 3600) a = Math.round(s / 60) + 'm';
      else if (Math.abs(s) < 86400) a = Math.round(s / 3600) + 'h';
      else a = Math.round(s / 86400) + 'd';
      t.dataset.ago = s >= 0 ? a + ' ago' : 'in ' + a.replace('-', '');
    }
  }

  // Buttons that ask first.
  document.addEventListener('click', function (e) {
    const b = e.target.closest('[data-confirm]');
    if (b && !window.confirm(b.dataset.confirm)) e.preventDefault();
  });

  // "All on this page" checks every row's box.
  document.addEventListener('change', function (e) {
    if (e.target.id === 'select-all') {
      for (const c of document.querySelectorAll('input[type=checkbox][name=id]')) c.checked = e.target.checked;
    }
  });

  // Live: the server says "change" when what the page shows changed; the
  // page fetches itself again and swaps its main part, keeping what the
  // user was typing or had checked.
  function live() {
    const page = document.body.dataset.live;
    const conn = document.getElementById('conn');
    if (!page || !window.EventSource || !conn) return;
    const es = new EventSource('/console/events?page=' + encodeURIComponent(page));
    es.onopen = function () { conn.dataset.state = 'live'; };
    es.onerror = function () { conn.dataset.state = 'off'; };
    es.addEventListener('signedout', function () { es.close(); location.reload(); });
    let busy = false;
    es.addEventListener('change', async function () {
      if (busy) return;
      busy = true;
      try {
        const active = document.activeElement;
        if (active && (active.tagName === 'INPUT' || active.tagName === 'SELECT') && active.closest('#filters')) return;
        const resp = await fetch(location.href, { credentials: 'same-origin' });
        if (!resp.ok) return;
        const doc = new DOMParser().parseFromString(await resp.text(), 'text/html');
        const next = doc.getElementById('main');
        const main = document.getElementById('main');
        if (!next || !main) return;
        const checked = new Set(Array.from(document.querySelectorAll('input[name=id]:checked'), function (c) { return c.value; }));
        main.replaceWith(next);
        for (const c of next.querySelectorAll('input[name=id]')) c.checked = checked.has(c.value);
        ages(next);
        document.body.dataset.updated = String(Date.now());
      } finally {
        busy = false;
      }
    });
  }

  function start() {
    ages(document);
    setInterval(function () { ages(document); }, 15000);
    live();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
