// The dashboard: polls the HTTP API and draws what it says. Every name that
// comes from outside (paths, users, addresses) goes in as text, never as
// markup.
'use strict';

const POLL_MS = 2000;
const HISTORY = 150; // samples kept per path: five minutes at POLL_MS
const history = new Map(); // path name -> [bits per second, ...]
let rtspPort = null;
let sessionsApi = true;

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c ?? ''));
  return e;
}

function setStatus(text) {
  document.getElementById('status').textContent = text || '';
}

async function api(method, url, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const r = await fetch(url, init);
  let data = null;
  try { data = await r.json(); } catch (e) { data = null; }
  if (!r.ok) {
    const err = data && data.error;
    const why = typeof err === 'string' ? err : err ? [err.key, err.reason].filter(Boolean).join(': ') : r.statusText;
    const e = new Error(`${method} ${url}: ${r.status} ${why}`);
    e.status = r.status;
    throw e;
  }
  return data;
}

function bits(n) {
  if (n === undefined || n === null) return '–';
  const units = ['bit/s', 'kbit/s', 'Mbit/s', 'Gbit/s'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

function bytes(n) {
  if (n === undefined || n === null) return '–';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

function since(iso) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '–';
  let s = Math.max(0, Math.round((Date.now() - t) / 1000));
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  return h ? `${h} h ${m} min` : m ? `${m} min ${s} s` : `${s} s`;
}

// Readers are a count, or counts by transport.
function readerCount(p) {
  const r = p.readers ?? p.viewers;
  if (r === undefined || r === null) return null;
  if (typeof r === 'number') return r;
  return Object.values(r).reduce((a, b) => a + (typeof b === 'number' ? b : 0), 0);
}

function readerText(p) {
  const n = readerCount(p);
  if (n === null) return '–';
  const r = p.readers;
  if (r && typeof r === 'object') {
    const parts = Object.entries(r).filter(([, v]) => v).map(([k, v]) => `${v} ${k}`);
    if (parts.length) return `${n} (${parts.join(', ')})`;
  }
  return String(n);
}

function rtspUrl(name) {
  const host = location.hostname.includes(':') ? `[${location.hostname}]` : location.hostname;
  return `rtsp://${host}${rtspPort ? ':' + rtspPort : ''}${encodeURI(name)}`;
}

function sparkline(values) {
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('viewBox', `0 0 ${HISTORY} 24`);
  svg.setAttribute('preserveAspectRatio', 'none');
  const max = Math.max(1, ...values);
  const start = HISTORY - values.length;
  const pts = values.map((v, i) => `${start + i},${(23 - (v / max) * 22).toFixed(1)}`).join(' ');
  const line = document.createElementNS(NS, 'polyline');
  line.setAttribute('points', pts);
  svg.append(line);
  return svg;
}

function remember(name, bps) {
  if (bps === undefined || bps === null) return;
  const h = history.get(name) || [];
  h.push(bps);
  if (h.length > HISTORY) h.shift();
  history.set(name, h);
}

// Pattern paths list the paths published under them: one row each.
function flatten(paths) {
  const out = [];
  for (const p of paths) {
    out.push(p);
    if (Array.isArray(p.publishers)) for (const c of p.publishers) out.push({ ...c, kind: c.kind || p.kind, under: p.name });
  }
  return out;
}

function recordingCell(p) {
  if (!p.recording) return el('td', {}, '–');
  const start = p.recording !== 'recording';
  const name = p.name;
  const button = el('button', {
    'data-action': start ? 'record-start' : 'record-stop',
    onclick: () => act(() => api('POST', `/api/v1/recordings${encodeURI(name)}/${start ? 'start' : 'stop'}`)),
  }, start ? 'Start' : 'Stop');
  return el('td', {}, el('span', { class: `state-${p.recording}` }, p.recording, ' '), button);
}

function drawPaths(paths) {
  const body = document.querySelector('#paths tbody');
  const rows = flatten(paths);
  body.replaceChildren(...rows.map((p) => {
    const pattern = p.name.endsWith('*');
    remember(p.name, p.bitrate_bps);
    const state = p.state || (p.live === undefined ? '' : p.live ? 'ready' : 'idle');
    const remove = p.under ? '' : el('button', {
      class: 'danger', 'data-action': 'remove-path',
      onclick: () => { if (confirm(`Remove ${p.name}?`)) act(() => api('DELETE', `/api/v1/paths${encodeURI(p.name)}`)); },
    }, 'Remove');
    return el('tr', { 'data-path': p.name },
      el('td', {}, el('div', {}, p.name),
        pattern ? '' : el('div', {},
          el('span', { class: 'url' }, rtspUrl(p.name)), ' ',
          el('button', { 'data-action': 'copy', onclick: () => copy(rtspUrl(p.name)) }, 'Copy'))),
      el('td', {}, p.kind || ''),
      el('td', { class: `state-${state}` }, state || '–'),
      el('td', { class: 'url' }, p.source || ''),
      el('td', { class: 'num readers' }, readerText(p)),
      el('td', { class: 'num bitrate' }, bits(p.bitrate_bps)),
      el('td', {}, sparkline(history.get(p.name) || [])),
      recordingCell(p),
      el('td', {}, remove));
  }));
  document.getElementById('no-paths').hidden = rows.length > 0;
  const live = rows.filter((p) => p.live || p.state === 'ready').length;
  const readers = rows.reduce((a, p) => a + (readerCount(p) || 0), 0);
  document.getElementById('summary').textContent = `${rows.length} paths, ${live} live, ${readers} readers`;
}

// Loss from the client's receiver reports: {fraction, cumulative}, or none.
function lossText(loss) {
  if (loss === undefined || loss === null) return '–';
  if (typeof loss !== 'object') return String(loss);
  const pct = typeof loss.fraction === 'number' ? ` (${(loss.fraction * 100).toFixed(1)} %)` : '';
  return `${loss.cumulative ?? 0}${pct}`;
}

function drawSessions(sessions) {
  const body = document.querySelector('#sessions tbody');
  body.replaceChildren(...sessions.map((s) => el('tr', { 'data-session': s.id },
    el('td', {}, s.path || ''),
    el('td', {}, s.role || ''),
    el('td', {}, s.remote || ''),
    el('td', {}, s.user || '–'),
    el('td', {}, s.transport || ''),
    el('td', {}, since(s.started)),
    el('td', { class: 'num' }, bytes(s.role === 'publisher' ? s.bytes_received : s.bytes_sent)),
    el('td', { class: 'num' }, lossText(s.loss)),
    el('td', {}, el('button', {
      class: 'danger', 'data-action': 'kick',
      onclick: () => act(() => api('DELETE', `/api/v1/sessions/${encodeURIComponent(s.id)}`)),
    }, 'Kick')))));
  document.getElementById('no-sessions').hidden = sessions.length > 0;
}

function drawRecordings(recs) {
  const body = document.querySelector('#recordings tbody');
  body.replaceChildren(...recs.map((r) => {
    const segs = r.segments || [];
    const size = segs.reduce((a, s) => a + (s.bytes || 0), 0);
    const newest = segs.length ? segs[segs.length - 1] : null;
    return el('tr', {},
      el('td', {}, r.path),
      el('td', { class: `state-${r.state}` }, r.state || ''),
      el('td', { class: 'num' }, String(segs.length)),
      el('td', { class: 'num' }, bytes(size)),
      el('td', {}, newest ? newest.file : '–'),
      el('td', {}, r.last_error || ''));
  }));
  document.getElementById('no-recordings').hidden = recs.length > 0;
}

function copy(text) {
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(() => setStatus(`copied ${text}`), () => setStatus(text));
  } else {
    setStatus(text); // no clipboard outside a secure context: shown to copy by hand
  }
}

async function act(fn) {
  try {
    await fn();
    setStatus('');
  } catch (e) {
    setStatus(e.status === 401 || e.status === 403 ? 'not allowed for this user' : e.message);
  }
  refresh();
}

let polling = false;
let pollFailed = false;
async function refresh() {
  if (polling) return;
  polling = true;
  try {
    const paths = await api('GET', '/api/v1/paths');
    drawPaths(paths.paths || []);
    if (sessionsApi) {
      try {
        const s = await api('GET', '/api/v1/sessions');
        drawSessions(s.sessions || []);
      } catch (e) {
        if (e.status !== 404) throw e;
        sessionsApi = false; // a server without the sessions list
        document.getElementById('sessions-section').hidden = true;
      }
    }
    if (pollFailed) setStatus('');
    pollFailed = false;
  } catch (e) {
    pollFailed = true;
    setStatus(e.message || 'the server does not answer');
  } finally {
    polling = false;
  }
}

async function refreshRecordings() {
  try {
    const r = await api('GET', '/api/v1/recordings');
    drawRecordings(r.recordings || []);
  } catch (e) {
    setStatus(e.message);
  }
}

function addPath(ev) {
  ev.preventDefault();
  const f = ev.target;
  const body = { name: f.name.value.trim() };
  const kind = f.kind.value;
  if (kind === 'publish') body.publish = true;
  else body[kind] = f.value.value.trim();
  if (f.record.checked) body.record = true;
  act(async () => {
    await api('POST', '/api/v1/paths', body);
    f.reset();
  });
}

async function start() {
  document.getElementById('add-path').addEventListener('submit', addPath);
  try {
    const info = await api('GET', '/api/v1/server');
    rtspPort = info.rtsp_port || null;
  } catch (e) {
    rtspPort = null; // URLs without a port: the client's default
  }
  await refresh();
  await refreshRecordings();
  setInterval(refresh, POLL_MS);
  setInterval(refreshRecordings, 5 * POLL_MS);
}

start();
