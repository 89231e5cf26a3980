// tonmesh web app: forms that post JSON to the bridge, fragments that the
// server re-renders after an event or a form, and the streamed completion.
// No inline script anywhere (the CSP forbids it); all data the page shows
// arrives as HTML escaped by the server's templates, or as text.
'use strict';
(function () {
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  // refresh re-renders fragment name from the server, at most one fetch at
  // a time per fragment: a refresh asked for during one runs once after it.
  const busy = {};
  async function refresh(name) {
    if (busy[name]) { busy[name] = 'again'; return; }
    busy[name] = 'yes';
    try {
      const r = await fetch('/ui/frag/' + name + location.search, { credentials: 'same-origin' });
      if (r.status === 401) { location.href = '/ui/login'; return; }
      const html = await r.text();
      for (const el of $$('[data-frag="' + name + '"]')) {
        el.innerHTML = html;
        el.dataset.version = String(Number(el.dataset.version || 0) + 1);
      }
    } catch (e) {
      // the node went away; the next event or tick tries again
    } finally {
      const again = busy[name] === 'again';
      busy[name] = false;
      if (again) refresh(name);
    }
  }

  async function errorMessage(r) {
    const text = await r.text();
    try {
      const j = JSON.parse(text);
      if (j && j.error && j.error.message) return j.error.message;
    } catch (e) { /* not JSON */ }
    return text || (r.status + ' ' + r.statusText);
  }

  // Forms with data-api post their fields as a JSON object.
  document.addEventListener('submit', async (ev) => {
    const form = ev.target;
    if (!form.dataset || !form.dataset.api) return;
    ev.preventDefault();
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
    const body = {};
    // Fields marked data-list are sent as arrays (split at commas and spaces).
    const lists = new Set($$('[data-list]', form).map((el) => el.name));
    for (const [k, v] of new FormData(form)) {
      if (v === '') continue;
      body[k] = lists.has(k) ? v.split(/[\s,]+/).filter(Boolean) : v;
    }
    const result = $('.result', form);
    if (result) { result.hidden = true; result.textContent = ''; }
    const err = $('.error', form);
    if (err) { err.hidden = true; err.textContent = ''; }
    $$('.bad', form).forEach((el) => el.classList.remove('bad'));
    const btn = $('button', form);
    if (btn) btn.disabled = true;
    try {
      const r = await fetch(form.dataset.api, {
        method: form.dataset.method || 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json' },
        body: form.dataset.method === 'DELETE' ? undefined : JSON.stringify(body),
      });
      if (!r.ok) {
        const msg = await errorMessage(r);
        if (err) { err.textContent = msg; err.hidden = false; }
        for (const input of $$('[name]', form)) {
          if (input.type !== 'hidden' && msg.includes(input.name + ':')) input.classList.add('bad');
        }
        form.dataset.failed = String(Number(form.dataset.failed || 0) + 1);
        return;
      }
      if (result) { result.textContent = JSON.stringify(await r.json(), null, 2); result.hidden = false; }
      for (const input of $$('input:not([type=hidden]), textarea', form)) input.value = '';
      form.dataset.done = String(Number(form.dataset.done || 0) + 1);
      (form.dataset.refresh || '').split(' ').filter(Boolean).forEach(refresh);
    } catch (e) {
      if (err) { err.textContent = 'the node did not answer: ' + e; err.hidden = false; }
    } finally {
      if (btn) btn.disabled = false;
    }
  });

  // Live updates: one event stream per page; each event refreshes the
  // fragments that listen for it.
  const live = $('#live');
  if (live && window.EventSource) {
    const es = new EventSource('/ui/events');
    es.onopen = () => { live.textContent = 'live updates: on'; live.dataset.state = 'open'; };
    es.onerror = () => { live.textContent = 'live updates: reconnecting…'; live.dataset.state = 'error'; };
    const names = new Set();
    $$('[data-on]').forEach((el) => el.dataset.on.split(' ').forEach((n) => names.add(n)));
    for (const n of names) {
      es.addEventListener(n, () => {
        $$('[data-on]').filter((el) => el.dataset.on.split(' ').includes(n)).forEach((el) => refresh(el.dataset.frag));
      });
    }
  }
  // Fragments without an event source poll.
  for (const el of $$('[data-every]')) {
    setInterval(() => refresh(el.dataset.frag), Number(el.dataset.every) * 1000);
  }

  // The playground streams a chat completion through the bridge and
  // renders each chunk as it arrives.
  const pg = $('#playground');
  if (pg) pg.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const out = $('#completion'), info = $('#completion-info'), err = $('#completion-error');
    out.textContent = ''; info.textContent = ''; err.hidden = true;
    out.dataset.chunks = '0'; out.dataset.done = 'false';
    const fd = new FormData(pg);
    const req = {
      model: fd.get('model'), messages: [{ role: 'user', content: fd.get('prompt') }],
      max_tokens: Number(fd.get('max_tokens')) || 64, stream: true, stream_options: { include_usage: true },
    };
    const fail = (msg) => { err.textContent = msg; err.hidden = false; out.dataset.done = 'error'; };
    let r;
    try {
      r = await fetch('/ui/api/v1/chat/completions', {
        method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(req),
      });
    } catch (e) { fail('the node did not answer: ' + e); return; }
    if (!r.ok) { fail(await errorMessage(r)); return; }
    const reader = r.body.getReader();
    const dec = new TextDecoder();
    let buf = '';
    const onData = (data) => {
      if (data === '[DONE]') { out.dataset.done = 'true'; return; }
      const c = JSON.parse(data);
      if (c.error) { fail(c.error.message || 'the worker failed'); return; }
      const d = c.choices && c.choices[0] && c.choices[0].delta;
      if (d && d.content) {
        out.textContent += d.content;
        out.dataset.chunks = String(Number(out.dataset.chunks) + 1);
      }
      if (c.usage) {
        info.textContent = c.usage.completion_tokens + ' tokens' + (c.usage.cost ? ', cost ' + c.usage.cost.ton + ' TON' : '') +
          (c.confidential === false ? ' · not confidential (unattested worker)' : '');
      }
    };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        for (const line of block.split('\n')) if (line.startsWith('data: ')) onData(line.slice(6));
      }
    }
    if (out.dataset.done === 'false') out.dataset.done = 'true';
  });
})();
