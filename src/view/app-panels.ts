// The viewer's browser script, part 2: the selected event's details (evidence, hashes with
// copy buttons, where its tainted arguments came from), the summary, and the start. Same
// rules as part 1: text only through textContent, links only to #step-N with a number.

export const PANELS_SCRIPT = `
function copyButton(value) {
  var button = el('button', 'copy', 'copy');
  button.type = 'button';
  button.title = 'copy ' + value;
  button.addEventListener('click', function (event) {
    event.stopPropagation();
    var done = function () { button.textContent = 'copied'; };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(value).then(done, function () { button.textContent = 'select it'; });
    } else button.textContent = 'select it';
  });
  return button;
}

function hashView(hash) {
  var span = el('span');
  var code = el('code', null, String(hash).slice(0, 12) + (String(hash).length > 12 ? '…' : ''));
  code.title = hash;
  span.appendChild(code);
  span.appendChild(copyButton(String(hash)));
  return span;
}

function listOf(items, render) {
  var ul = el('ul');
  items.forEach(function (item) {
    var li = el('li');
    render(li, item);
    ul.appendChild(li);
  });
  return ul;
}

function addRow(dl, name, value) {
  if (value === null || value === undefined || value === '') return;
  dl.appendChild(el('dt', null, name));
  var dd = el('dd');
  if (typeof value === 'object' && value.nodeType) dd.appendChild(value);
  else dd.textContent = String(value);
  dl.appendChild(dd);
}

/** A receipt, secret handle or approval, field by field; hashes short with copy buttons. */
function recordView(record, titled) {
  var box = el('div', 'record');
  if (titled !== false) box.appendChild(el('strong', null, record.title));
  var table = el('table');
  record.fields.forEach(function (field) {
    var tr = el('tr');
    tr.appendChild(el('td', null, field[0]));
    var td = el('td', 'mono');
    if (field[2]) td.appendChild(hashView(field[1]));
    else td.textContent = String(field[1]);
    tr.appendChild(td);
    table.appendChild(tr);
  });
  box.appendChild(table);
  return box;
}

function originsView(p) {
  var box = el('div');
  if (p.origins.length > 0) {
    box.appendChild(listOf(p.origins, function (li, o) {
      li.appendChild(el('code', null, o.argument));
      li.appendChild(document.createTextNode(' (' + o.labels.join(', ') + ') came from '));
      if (o.step !== null) {
        li.appendChild(stepLink(o.step));
        li.appendChild(document.createTextNode(' ' + o.source + ', page '));
      } else li.appendChild(document.createTextNode('a page no earlier step brought in, '));
      li.appendChild(hashView(o.page_sha256));
    }));
  } else box.appendChild(el('div', null, 'no tainted argument recorded'));
  if (p.session_origins.length > 0) {
    box.appendChild(listOf(p.session_origins, function (li, o) {
      li.appendChild(document.createTextNode('the session is ' + o.label + ' since '));
      li.appendChild(stepLink(o.step));
      li.appendChild(document.createTextNode(' (' + o.source + ')'));
    }));
  }
  return box;
}

function renderDetail(e) {
  var box = $('detail');
  box.replaceChildren();
  var title = el('h2');
  title.appendChild(el('span', 'badge ' + e.verdict, e.verdict));
  title.appendChild(document.createTextNode(' step ' + e.step + ' · ' + e.syscall));
  box.appendChild(title);
  var dl = el('dl');
  addRow(dl, 'target', el('code', null, e.target));
  addRow(dl, 'decision', e.verdict === e.effect ? e.verdict : e.verdict + ' (the rule said ' + e.effect + ')');
  addRow(dl, 'rule', e.rule);
  addRow(dl, 'reason', e.reason);
  addRow(dl, 'missing capability', e.missing_capability);
  addRow(dl, 'labels', e.labels.join(', ') || '-');
  addRow(dl, 'time', e.ts + (e.dt !== null ? ' (' + deltaText(e.dt) + ')' : ''));
  addRow(dl, 'agent', e.agent);
  addRow(dl, 'server', e.server);
  addRow(dl, 'session', e.session);
  addRow(dl, 'shadow policy', e.shadow);
  addRow(dl, 'file line', e.line);
  if (e.receipt) addRow(dl, 'evidence', recordView(receiptRecord(e)));
  e.records.forEach(function (record) { addRow(dl, 'evidence', recordView(record)); });
  var signed = checkpointCovering(e.step);
  if (signed && signed.event_count === e.step) addRow(dl, 'signed after it', recordView(signed.record));
  if (e.evidence.length > 0) {
    addRow(dl, 'evidence', listOf(e.evidence, function (li, item) {
      li.appendChild(document.createTextNode(item.ref + ' '));
      if (item.sha256) li.appendChild(hashView(item.sha256));
    }));
  }
  var p = PROVENANCE.get(e.step);
  if (p) {
    if (p.origins.length > 0 || p.session_origins.length > 0) {
      addRow(dl, 'provenance', graphView(p, e));
      dl.lastChild.className = 'wide';
    }
    addRow(dl, 'came from', originsView(p));
    if (p.matched.length > 0) addRow(dl, 'rule conditions met', p.matched.join('; '));
    addRow(dl, 'hard deny', p.hard);
    if (p.approve) {
      var approve = el('span');
      approve.appendChild(el('code', null, p.approve));
      approve.appendChild(copyButton(p.approve));
      addRow(dl, 'allow once', approve);
    }
  } else if (e.provenance.length > 0) {
    addRow(dl, 'provenance', listOf(e.provenance, function (li, text) { li.textContent = text; }));
  }
  if (e.lineage.length > 0) {
    addRow(dl, 'lineage', listOf(e.lineage, function (li, text) { li.textContent = text; }));
  }
  if (e.problem) addRow(dl, 'details', 'not available: ' + e.problem);
  else if (e.pending) addRow(dl, 'details', 'still being read');
  else {
    addRow(dl, 'request hash', hashView(e.request_hash));
    addRow(dl, 'event hash', hashView(e.event_hash));
  }
  box.appendChild(dl);
}

function countsCard(title, counts, wide) {
  var card = el('section', 'card' + (wide ? ' wide' : ''));
  card.appendChild(el('h3', null, title));
  var keys = Object.keys(counts);
  if (keys.length === 0) { card.appendChild(el('div', 'empty', 'none')); return card; }
  var table = el('table');
  keys.forEach(function (key) {
    var tr = el('tr');
    tr.appendChild(el('td', null, key));
    tr.appendChild(el('td', 'n', counts[key]));
    table.appendChild(tr);
  });
  card.appendChild(table);
  return card;
}

function blockedCard(s) {
  var card = el('section', 'card wide');
  card.id = 'blocked';
  card.appendChild(el('h3', null, 'Blocked and asked actions (' + s.blocked_total + ')'));
  if (s.blocked.length === 0) { card.appendChild(el('div', 'empty', 'nothing was refused or asked')); return card; }
  card.appendChild(listOf(s.blocked, function (li, b) {
    li.appendChild(stepLink(b.step));
    li.appendChild(document.createTextNode(' '));
    li.appendChild(el('span', 'badge ' + b.verdict, b.verdict));
    li.appendChild(document.createTextNode(' ' + b.syscall + ' '));
    li.appendChild(el('code', null, b.target));
    li.appendChild(document.createTextNode(' by ' + b.rule + ': ' + b.reason));
  }));
  if (s.blocked_total > s.blocked.length) {
    card.appendChild(el('div', 'empty', (s.blocked_total - s.blocked.length) + ' more: filter the timeline by verdict'));
  }
  return card;
}

function renderSummary() {
  var s = DATA.summary;
  var box = $('view-summary');
  box.replaceChildren();
  box.appendChild(blockedCard(s));
  if (s.sessions.length > 0) box.appendChild(sessionsCard(s));
  if (DATA.seal) {
    var seal = el('section', 'card wide');
    seal.id = 'seal';
    seal.appendChild(el('h3', null, 'The seal'));
    seal.appendChild(recordView(DATA.seal, false));
    box.appendChild(seal);
  }
  box.appendChild(pinsCard(s));
  box.appendChild(checkpointsCard());
  box.appendChild(countsCard('Events by verdict', s.by_verdict));
  box.appendChild(countsCard('Blocked or asked, by rule', s.blocked_by_rule));
  box.appendChild(countsCard('Events by rule', s.by_rule));
  box.appendChild(countsCard('Events by syscall', s.by_syscall));
  box.appendChild(countsCard('MCP servers', s.servers));
  box.appendChild(countsCard('Tools called', s.tools));
  box.appendChild(countsCard('Labels', s.labels));
  box.appendChild(countsCard('Agents', s.agents));
  box.appendChild(countsCard('Evidence by reference type', s.evidence_by_type));
  if (s.compromised.length > 0) {
    var card = el('section', 'card wide');
    card.appendChild(el('h3', null, 'Sessions compromised'));
    card.appendChild(listOf(s.compromised, function (li, c) {
      li.appendChild(stepLink(c.step));
      li.appendChild(document.createTextNode(' ' + c.agent + ': ' + c.by));
    }));
    box.appendChild(card);
  }
  var v = s.by_verdict;
  $('tab-counts').textContent = v.allow + ' allowed · ' + v.approved + ' approved · ' + v.ask + ' asked · ' + v.deny + ' denied';
}

/** Draw the page again after live data came, keeping the selection and the end in view. */
function liveUpdate(change) {
  var list = $('list');
  var atEnd = list.scrollTop + list.clientHeight >= list.scrollHeight - H;
  var step = selected >= 0 ? R.step[selected] : null;
  change();
  selected = step !== null && BY_STEP.has(step) ? BY_STEP.get(step) : -1;
  renderBanner();
  fillFilters();
  renderSummary();
  applyFilters();
  if (atEnd) { list.scrollTop = list.scrollHeight; renderRows(); }
  if (selected >= 0) renderDetail(detailedEventAt(selected));
  $('live').textContent = 'live: ' + plural(COUNT, 'event') + ', updated ' + new Date().toLocaleTimeString();
}

/**
 * Live mode: the server sends the rows appended to the log (\`rows\`), or the whole model
 * again when the file was rewritten (\`model\`). The page says which build and how many
 * rows it holds, so that it is sent only what it lacks.
 */
function follow() {
  if (!DATA.follow || typeof EventSource !== 'function') return;
  var live = $('live');
  live.hidden = false;
  live.textContent = 'live: waiting for new events';
  var source = new EventSource('events?g=' + Number(DATA.follow.generation) + '&n=' + COUNT);
  source.addEventListener('model', function (message) {
    var sent = JSON.parse(message.data);
    liveUpdate(function () {
      useModel(sent.model, sent.details);
      DATA.follow = { generation: sent.generation };
    });
  });
  source.addEventListener('rows', function (message) {
    var sent = JSON.parse(message.data);
    if (sent.generation !== DATA.follow.generation || sent.from !== COUNT) {
      // Out of step (not expected on one stream): ask again from what is held.
      source.close();
      follow();
      return;
    }
    liveUpdate(function () {
      appendRows(sent.events, sent.events.details);
      sent.provenance.forEach(function (item) { PROVENANCE.set(item.step, item); });
      addCheckpoints(sent.checkpoints);
      DATA.checkpoints_total = sent.checkpoints_total;
      DATA.verification = sent.verification;
      DATA.sealed_at = sent.sealed_at;
      DATA.seal = sent.seal;
      DATA.summary = sent.summary;
      DATA.run_id = sent.run_id;
    });
  });
  source.addEventListener('error', function () {
    source.close();
    live.textContent = 'live: disconnected (the viewer stopped?); reload to retry';
  });
}

renderBanner();
setupFilters();
setupNavigation();
renderSummary();
applyFilters();
if (location.hash) followHash();
/** Ready once the whole page is read (the details block follows this script). */
function ready() {
  if (selected >= 0) renderDetail(detailedEventAt(selected));
  follow();
  document.body.dataset.ready = 'true';
}
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', ready);
else ready();
`;
