// The viewer's browser script, part 1: reading the embedded data, the banner, the
// filters, the virtualised timeline (only the rows in view exist), keyboard navigation
// and deep links (#step-N). Plain ES2020 in a string, inlined into the page and allowed by
// its hash in the Content-Security-Policy.
// Input distrusted: every string of the data (a log is attacker-influenced). Text goes
// into the page only through textContent, title and numbers; never as markup.

export const TIMELINE_SCRIPT = String.raw`
var DATA, S, SETS, R, COUNT, BY_STEP, PROVENANCE, CHECKPOINTS;
var VERDICTS = ['allow', 'deny', 'ask', 'approved'];
var visible = [];
var selected = -1;
var haystacks = null;
/** Each event's details as JSON text, read from their block when first needed. */
var DETAILS = null;
var LIVE_DETAILS = [];

/** An empty set of columns (live mode appends to it). */
function emptyRows() {
  return { step: [], line: [], dt: [], verdict: [], syscall: [], target: [], server: [],
    agent: [], rule: [], reason: [], labels: [] };
}

/** Take a model (the embedded one, or a newer one from live mode) as the data shown. */
function useModel(model, details) {
  DATA = model;
  S = [];
  SETS = [];
  R = emptyRows();
  COUNT = 0;
  BY_STEP = new Map();
  DETAILS = details;
  LIVE_DETAILS = [];
  FETCHED = new Map();
  DETAILS_PROBLEM = null;
  haystacks = null;
  appendRows(model.events, []);
  PROVENANCE = new Map();
  DATA.provenance.forEach(function (item) { PROVENANCE.set(item.step, item); });
  CHECKPOINTS = DATA.checkpoints.slice();
}

/** Add a chunk of rows (columns, the strings and label sets they add) after those shown. */
function appendRows(chunk, details) {
  chunk.strings.forEach(function (text, i) { S[chunk.strings_from + i] = String(text); });
  chunk.label_sets.forEach(function (set, i) { SETS[chunk.label_sets_from + i] = set; });
  var rows = chunk.rows;
  Object.keys(R).forEach(function (name) {
    var column = R[name], added = rows[name];
    for (var i = 0; i < added.length; i++) column.push(added[i]);
  });
  for (var i = 0; i < rows.step.length; i++) BY_STEP.set(rows.step[i], COUNT + i);
  details.forEach(function (text) { LIVE_DETAILS.push(text); });
  COUNT += rows.step.length;
}

/** The event at index i as the rows and panels read it. */
function eventAt(i) {
  var server = R.server[i];
  return {
    index: i, step: R.step[i], line: R.line[i], dt: R.dt[i],
    verdict: VERDICTS[R.verdict[i]], syscall: S[R.syscall[i]], target: S[R.target[i]],
    server: server < 0 ? null : S[server], agent: S[R.agent[i]], rule: S[R.rule[i]],
    reason: S[R.reason[i]], labels: SETS[R.labels[i]]
  };
}

/** Served: details fetched from the server, by index, and the ranges asked for. */
var FETCHED = new Map();
var ASKED = new Set();
var DETAILS_PROBLEM = null;

/**
 * The details text of event i, or undefined while it is not here yet. Written, they are in
 * their block after the script (read once the page is); served, the server holds those of
 * the events the page came with (fetched when selected); live mode sends later ones.
 */
function detailText(i) {
  if (i < 0) return null;
  var remote = DETAILS === null && DATA.remote ? DATA.remote.count : -1;
  if (remote >= 0) return i < remote ? FETCHED.get(i) : LIVE_DETAILS[i - remote];
  if (DETAILS === null) {
    if (document.readyState === 'loading') return undefined;
    DETAILS = document.getElementById('agentk-details').textContent.split('\n');
  }
  var embedded = DETAILS.length === 1 && DETAILS[0] === '' ? 0 : DETAILS.length;
  return i < embedded ? DETAILS[i] : LIVE_DETAILS[i - embedded];
}

/** Ask the server for the details of events from..to-1; draw the selection again on arrival. */
function fetchDetails(from, to) {
  var key = from + ':' + to;
  if (ASKED.has(key)) return;
  ASKED.add(key);
  var build = DATA.remote.build;
  fetch('details?b=' + encodeURIComponent(build) + '&from=' + from + '&to=' + to, { cache: 'no-store' })
    .then(function (response) {
      if (response.status === 409) throw new Error('the log changed since this page was built: reload it');
      if (!response.ok) throw new Error('the viewer answered ' + response.status);
      return response.json();
    })
    .then(function (texts) {
      if (!DATA.remote || DATA.remote.build !== build) return;
      texts.forEach(function (text, k) { FETCHED.set(from + k, JSON.stringify(text)); });
    }, function (error) { DETAILS_PROBLEM = String(error.message || error); })
    .then(function () {
      ASKED.delete(key);
      if (selected >= from && selected < to) renderDetail(detailedEventAt(selected));
    });
}

/**
 * The event at index i with its details, parsed now: only a selected event needs them.
 * Until they are here (their block not read yet, or their answer from the server still on
 * its way) the details are pending, and drawn again once they come.
 */
function detailedEventAt(i) {
  var e = eventAt(i);
  var text = detailText(i), before = detailText(i - 1);
  if (text === undefined || before === undefined) {
    e.pending = true;
    if (DATA.remote && DETAILS === null) {
      if (DETAILS_PROBLEM) e.problem = DETAILS_PROBLEM;
      else fetchDetails(Math.max(0, i - 1), Math.min(DATA.remote.count, i + 1));
    }
    return detailFrom([], e);
  }
  return detailFrom(JSON.parse(text), e);
}

/** Details packed as columns.ts packs them (an array, its empty end left off), on e. */
function detailFrom(packed, e) {
  function at(n, empty) { return packed[n] === undefined || packed[n] === null ? empty : packed[n]; }
  e.ts = at(0, '');
  e.request_hash = at(1, '');
  e.event_hash = at(2, '');
  e.evidence = at(3, []).map(function (item) { return { type: item[0], ref: item[1], sha256: item[2] }; });
  e.effect = at(4, e.verdict);
  e.missing_capability = at(5, null);
  e.provenance = at(6, []);
  e.lineage = at(7, []);
  e.session = at(8, null);
  e.shadow = at(9, null);
  e.records = at(10, []).map(function (item) { return { title: item[0], fields: item[1] }; });
  e.receipt = at(11, null);
  if (e.receipt) {
    // Its reference is its id, packed with it: back in its place, before a secret handle.
    var handle = e.evidence.findIndex(function (item) { return item.type === 'secret-handle'; });
    e.evidence.splice(handle === -1 ? e.evidence.length : handle, 0,
      { type: 'receipt', ref: e.receipt[0], sha256: '' });
  }
  return e;
}

/** The hash of the event at index i (the chain's genesis before the first). */
function eventHashAt(i) {
  if (i < 0) return '0'.repeat(64);
  return JSON.parse(detailText(i))[2];
}

/**
 * An event's receipt field by field: what it packs (id, issue, expiry, a format 1
 * signature) and what the verification checked equal to the event's own (syscall, target,
 * scope, step, agent, run, the hash of the line before), shown from the event.
 */
function receiptRecord(e) {
  var r = e.receipt;
  var fields = [
    ['allows', e.syscall + ' ' + e.target, false],
    ['scope', e.syscall + ':' + e.target, false],
    ['agent', e.agent, false],
    ['run', DATA.run_id, false],
    ['step', String(e.step), false],
    ['issued', r[1] === null || r[1] === undefined ? e.ts : r[1], false],
    ['expires', r[2], false],
    ['bound to previous hash', eventHashAt(e.index - 1), true],
    ['authenticated by', r[3] || authenticatedBy(e.step), false]
  ];
  if (r[4]) fields.push(['signature', r[4], true]);
  return { title: 'receipt ' + r[0], fields: fields };
}
useModel(JSON.parse(document.getElementById('agentk-data').textContent), null);

function $(id) { return document.getElementById(id); }
function el(tag, className, text) {
  var node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}
function stepLink(step, text) {
  var link = el('a', null, text === undefined ? 'step ' + Number(step) : text);
  link.href = '#step-' + Number(step);
  return link;
}
function plural(count, noun) { return count + ' ' + noun + (count === 1 ? '' : 's'); }
function deltaText(ms) {
  if (ms === null || ms === undefined) return '';
  if (ms < 1000) return '+' + ms + 'ms';
  if (ms < 60000) return '+' + (ms / 1000).toFixed(1) + 's';
  return '+' + (ms / 60000).toFixed(1) + 'm';
}

function renderBanner() {
  var v = DATA.verification;
  var banner = $('banner');
  banner.className = 'banner ' + v.status;
  $('banner-status').textContent = v.tampered ? 'TAMPERED'
    : v.status === 'verified' ? 'VERIFIED' : v.status === 'unsealed' ? 'UNSEALED' : 'FAILED';
  $('banner-headline').textContent = v.headline;
  var details = $('banner-details');
  details.replaceChildren();
  $('banner-fail-link').hidden = true;
  $('fail').hidden = true;
  v.details.forEach(function (line) { details.appendChild(el('li', null, line)); });
  $('banner-meta').textContent = 'log ' + DATA.log + ' · run ' + (DATA.run_id || '(none)') +
    (DATA.sealed_at ? ' · sealed ' + DATA.sealed_at : '');
  if (v.failure) {
    var link = $('banner-fail-link');
    link.hidden = false;
    link.textContent = 'show line ' + v.failure.line;
    link.href = '#fail';
    var box = $('fail');
    box.hidden = false;
    $('fail-title').textContent = 'Line ' + v.failure.line + ' fails verification: ' +
      v.failure.detail + ' [' + v.failure.code + ']. ' + plural(v.events, 'event') +
      ' before it verify and are listed below; ' + plural(v.failure.later_lines, 'later line') +
      ' not shown.';
    $('fail-excerpt').textContent = v.failure.excerpt === null ? '(no such line)' : v.failure.excerpt;
  }
  document.title = 'AgentK viewer · ' + (DATA.run_id || DATA.log);
}

function fillSelect(select, values) {
  var chosen = select.value;
  while (select.options.length > 1) select.remove(1);
  values.forEach(function (value) {
    var option = el('option', null, value);
    option.value = value;
    select.appendChild(option);
  });
  select.value = values.indexOf(chosen) === -1 ? '' : chosen;
}

function fillFilters() {
  var syscalls = new Set(), servers = new Set(), labels = new Set();
  new Set(R.syscall).forEach(function (i) { syscalls.add(S[i]); });
  new Set(R.server).forEach(function (i) { if (i >= 0) servers.add(S[i]); });
  new Set(R.labels).forEach(function (i) {
    SETS[i].forEach(function (label) { labels.add(label); });
  });
  fillSelect($('f-syscall'), Array.from(syscalls).sort());
  fillSelect($('f-server'), Array.from(servers).sort());
  fillSelect($('f-label'), Array.from(labels).sort());
}

function setupFilters() {
  fillFilters();
  ['f-verdict', 'f-syscall', 'f-server', 'f-label'].forEach(function (id) {
    $(id).addEventListener('change', function () { applyFilters(); });
  });
  $('f-search').addEventListener('input', function () { applyFilters(); });
  $('f-reset').addEventListener('click', function () { resetFilters(); });
}

function haystack(i) {
  if (haystacks === null) haystacks = [];
  var text = haystacks[i];
  if (text === undefined) {
    text = (S[R.target[i]] + '\n' + S[R.reason[i]] + '\n' + S[R.rule[i]] + '\n' +
      S[R.syscall[i]]).toLowerCase();
    haystacks[i] = text;
  }
  return text;
}

function applyFilters() {
  var verdict = $('f-verdict').value, syscall = $('f-syscall').value;
  var server = $('f-server').value, label = $('f-label').value;
  var query = $('f-search').value.trim().toLowerCase();
  var v = VERDICTS.indexOf(verdict);
  visible = [];
  for (var i = 0; i < COUNT; i++) {
    if (verdict && R.verdict[i] !== v) continue;
    if (syscall && S[R.syscall[i]] !== syscall) continue;
    if (server && (R.server[i] < 0 || S[R.server[i]] !== server)) continue;
    if (label && SETS[R.labels[i]].indexOf(label) === -1) continue;
    if (query && haystack(i).indexOf(query) === -1) continue;
    visible.push(i);
  }
  $('f-count').textContent = visible.length === COUNT
    ? plural(COUNT, 'event')
    : visible.length + ' of ' + plural(COUNT, 'event');
  $('spacer').style.height = visible.length * H + 'px';
  $('list-empty').hidden = visible.length > 0;
  renderRows();
}

function resetFilters() {
  ['f-verdict', 'f-syscall', 'f-server', 'f-label', 'f-search'].forEach(function (id) {
    $(id).value = '';
  });
  applyFilters();
}

function rowFor(index, position) {
  var e = eventAt(index);
  var row = el('div', 'row' + (index === selected ? ' selected' : ''));
  row.style.top = position * H + 'px';
  row.dataset.step = String(e.step);
  row.dataset.index = String(index);
  row.appendChild(el('span', 'c-step mono', e.step));
  row.appendChild(el('span', 'c-dt mono', deltaText(e.dt)));
  var verdict = el('span', 'c-verdict');
  verdict.appendChild(el('span', 'badge ' + e.verdict, e.verdict));
  row.appendChild(verdict);
  row.appendChild(el('span', 'c-syscall mono', e.syscall));
  var target = el('span', 'c-target mono', e.target);
  target.title = e.target;
  row.appendChild(target);
  var rule = el('span', 'c-rule', e.rule);
  rule.title = e.rule + ': ' + e.reason;
  row.appendChild(rule);
  row.appendChild(el('span', 'c-labels', e.labels.join(', ')));
  return row;
}

function renderRows() {
  var list = $('list');
  var top = list.scrollTop, height = list.clientHeight || 800;
  var first = Math.max(0, Math.floor(top / H) - 10);
  var last = Math.min(visible.length, Math.ceil((top + height) / H) + 10);
  var rows = [];
  for (var p = first; p < last; p++) rows.push(rowFor(visible[p], p));
  $('rows').replaceChildren.apply($('rows'), rows);
}

function select(index, how) {
  selected = index;
  var e = detailedEventAt(index);
  renderDetail(e);
  if (how.hash) history.replaceState(null, '', '#step-' + e.step);
  var position = visible.indexOf(index);
  var list = $('list');
  if (position !== -1) {
    var y = position * H;
    if (how.center) list.scrollTop = Math.max(0, y - list.clientHeight / 2);
    else if (y < list.scrollTop) list.scrollTop = y;
    else if (y + H > list.scrollTop + list.clientHeight) list.scrollTop = y + H - list.clientHeight;
  }
  renderRows();
}

function move(by) {
  if (visible.length === 0) return;
  var position = visible.indexOf(selected);
  var next = position === -1 ? (by > 0 ? 0 : visible.length - 1)
    : Math.max(0, Math.min(visible.length - 1, position + by));
  select(visible[next], { hash: true });
}

function onKey(event) {
  var target = event.target;
  var tag = target && target.tagName;
  if (tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA') {
    if (event.key === 'Escape') target.blur();
    return;
  }
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  if (event.key === '/') { event.preventDefault(); showTab('timeline'); $('f-search').focus(); return; }
  var by = event.key === 'j' || event.key === 'ArrowDown' ? 1
    : event.key === 'k' || event.key === 'ArrowUp' ? -1
    : event.key === 'PageDown' ? 20 : event.key === 'PageUp' ? -20 : 0;
  if (by === 0) return;
  event.preventDefault();
  showTab('timeline');
  move(by);
}

function followHash() {
  var hash = location.hash;
  var match = /^#step-(\d+)$/.exec(hash);
  if (match) {
    var index = BY_STEP.get(Number(match[1]));
    showTab('timeline');
    if (index === undefined) { $('notice').textContent = 'No verified event has step ' + match[1] + '.'; return; }
    $('notice').textContent = '';
    if (visible.indexOf(index) === -1) resetFilters();
    select(index, { center: true });
  } else if (hash === '#fail' && DATA.verification.failure) {
    showTab('timeline');
    $('fail').scrollIntoView();
  } else if (hash === '#summary') showTab('summary');
}

function showTab(name) {
  ['timeline', 'summary'].forEach(function (tab) {
    $('tab-' + tab).setAttribute('aria-selected', String(tab === name));
    $('view-' + tab).hidden = tab !== name;
  });
  if (name === 'timeline') renderRows();
}

function setupNavigation() {
  $('list').addEventListener('scroll', function () { renderRows(); });
  $('rows').addEventListener('click', function (event) {
    var row = event.target.closest('.row');
    if (row) select(Number(row.dataset.index), { hash: true });
  });
  document.addEventListener('keydown', onKey);
  document.addEventListener('click', function (event) {
    var link = event.target.closest && event.target.closest('a[href^="#"]');
    if (!link) return;
    event.preventDefault();
    history.pushState(null, '', link.getAttribute('href'));
    followHash();
  });
  window.addEventListener('popstate', followHash);
  window.addEventListener('hashchange', followHash);
  window.addEventListener('resize', function () { renderRows(); });
  $('tab-timeline').addEventListener('click', function () { showTab('timeline'); });
  $('tab-summary').addEventListener('click', function () { showTab('summary'); });
}
`;
