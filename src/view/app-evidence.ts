// The viewer's browser script, part 3: the signed checkpoints (which one authenticates a
// receipt, the one signed after an event, the summary's list), the catalogue's pin
// changes, one bar per session, and the provenance graph of a refused or asked call (SVG
// built element by element). Same rules as parts 1 and 2: text only through textContent,
// links only to #step-N with a number.

export const EVIDENCE_SCRIPT = `
var SVG_NS = 'http://www.w3.org/2000/svg';

/** The first listed checkpoint that covers a step, or null. */
function checkpointCovering(step) {
  var lo = 0, hi = CHECKPOINTS.length;
  while (lo < hi) {
    var mid = (lo + hi) >> 1;
    if (CHECKPOINTS[mid].event_count < step) lo = mid + 1; else hi = mid;
  }
  return lo < CHECKPOINTS.length ? CHECKPOINTS[lo] : null;
}

/** What authenticates a format 2 receipt of a step: the checkpoint or seal covering it. */
function authenticatedBy(step) {
  var c = checkpointCovering(step);
  if (c) return 'the signed checkpoint at line ' + c.line + ' (it covers steps 1 to ' + c.event_count + ')';
  if (DATA.seal) return 'the seal (it covers every event)';
  if (DATA.checkpoints_total > CHECKPOINTS.length) return 'a signed checkpoint beyond the ' + CHECKPOINTS.length + ' listed';
  return 'nothing yet: no signed checkpoint or seal covers this step';
}

/** Checkpoints added by live mode (those after the last held). */
function addCheckpoints(list) {
  var last = CHECKPOINTS.length > 0 ? CHECKPOINTS[CHECKPOINTS.length - 1].line : 0;
  list.forEach(function (c) { if (c.line > last) { CHECKPOINTS.push(c); last = c.line; } });
}

function checkpointsCard() {
  var card = el('section', 'card wide');
  card.id = 'checkpoints';
  card.appendChild(el('h3', null, 'Signed checkpoints (' + DATA.checkpoints_total + ')'));
  if (CHECKPOINTS.length === 0) {
    card.appendChild(el('div', 'empty', 'none: no checkpoint line verified (receipts are authenticated by the seal alone)'));
    return card;
  }
  var table = el('table');
  CHECKPOINTS.slice(0, 50).forEach(function (c) {
    var tr = el('tr');
    tr.appendChild(el('td', null, 'line ' + c.line));
    var covers = el('td');
    covers.appendChild(document.createTextNode('steps 1 to '));
    covers.appendChild(stepLink(c.event_count, String(c.event_count)));
    tr.appendChild(covers);
    var head = c.record.fields.find(function (f) { return f[0] === 'head hash'; });
    var hash = el('td', 'mono');
    if (head) hash.appendChild(hashView(head[1]));
    tr.appendChild(hash);
    var at = c.record.fields.find(function (f) { return f[0] === 'signed at'; });
    tr.appendChild(el('td', 'n', at ? at[1] : ''));
    table.appendChild(tr);
  });
  card.appendChild(table);
  if (DATA.checkpoints_total > 50) {
    card.appendChild(el('div', 'empty', (DATA.checkpoints_total - 50) + ' more; each is shown on the event it follows'));
  }
  return card;
}

function pinsCard(s) {
  var card = el('section', 'card wide');
  card.id = 'pins';
  card.appendChild(el('h3', null, 'Catalogue pins: descriptors pinned, changed or refused (' + s.pins_total + ')'));
  if (s.pins.length === 0) {
    card.appendChild(el('div', 'empty', Object.keys(s.pins_by_state).length === 0
      ? 'no descriptor was checked against pins' : 'every descriptor was as pinned'));
    return card;
  }
  card.appendChild(listOf(s.pins, function (li, p) {
    li.appendChild(stepLink(p.step));
    li.appendChild(document.createTextNode(' '));
    li.appendChild(el('span', 'badge pin-' + (p.pin === 'first-use' ? 'first' : 'other'), p.pin));
    li.appendChild(document.createTextNode(' ' + p.syscall + ' '));
    li.appendChild(el('code', null, p.target));
    li.appendChild(document.createTextNode(' (server ' + (p.server === null ? '-' : p.server) + ', ' + p.verdict + ')'));
  }));
  if (s.pins_total > s.pins.length) {
    card.appendChild(el('div', 'empty', (s.pins_total - s.pins.length) + ' more'));
  }
  return card;
}

function sessionsCard(s) {
  var card = el('section', 'card wide');
  card.id = 'sessions';
  card.appendChild(el('h3', null, 'Each session over time (allowed, approved, asked, denied): ' + plural(s.sessions_total, 'session')));
  var most = 1;
  s.sessions.forEach(function (session) {
    session.bar.forEach(function (b) { most = Math.max(most, b.allow + b.approved + b.ask + b.deny); });
  });
  s.sessions.forEach(function (session) {
    var row = el('div', 'session');
    var name = el('div', 'session-name');
    name.appendChild(el('code', null, session.agent));
    name.appendChild(document.createTextNode(' ' + plural(session.events, 'event') + ', from '));
    name.appendChild(stepLink(session.first_step));
    row.appendChild(name);
    var bar = el('div', 'bar');
    session.bar.forEach(function (b) {
      var col = el('div', 'col');
      ['allow', 'approved', 'ask', 'deny'].forEach(function (kind) {
        if (b[kind] === 0) return;
        var seg = el('div', 'seg ' + kind);
        seg.style.height = (100 * b[kind] / most) + '%';
        seg.title = b[kind] + ' ' + kind;
        col.appendChild(seg);
      });
      bar.appendChild(col);
    });
    row.appendChild(bar);
    card.appendChild(row);
  });
  if (s.sessions_total > s.sessions.length) {
    card.appendChild(el('div', 'empty', (s.sessions_total - s.sessions.length) + ' more sessions: filter the timeline by agent'));
  }
  return card;
}

/* The provenance graph: pages (left), the tainted values they gave (middle), the call. */
var GRAPH_MAX = 8, NODE_W = 172, NODE_H = 38, GAP_Y = 12, COL_X = [0, 200, 400];

function svg(tag, attrs, className) {
  var node = document.createElementNS(SVG_NS, tag);
  Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, String(attrs[name])); });
  if (className) node.setAttribute('class', className);
  return node;
}
function clip(text, n) { text = String(text); return text.length > n ? text.slice(0, n - 1) + '…' : text; }

/** A node: a box with two lines of text (cut short; the whole in its tooltip), maybe a link. */
function graphNode(node, x, y) {
  var g = svg('g', { transform: 'translate(' + x + ',' + y + ')' }, 'pg-node ' + node.kind);
  var title = svg('title');
  title.textContent = node.title;
  g.appendChild(title);
  g.appendChild(svg('rect', { width: NODE_W, height: NODE_H, rx: 6 }));
  var one = svg('text', { x: 7, y: 15 });
  one.textContent = clip(node.one, 27);
  g.appendChild(one);
  var two = svg('text', { x: 7, y: 30 }, 'pg-sub');
  two.textContent = clip(node.two, 28);
  g.appendChild(two);
  if (node.step === null || node.step === undefined) return g;
  var link = svg('a', { href: '#step-' + Number(node.step) });
  link.appendChild(g);
  return link;
}

/** At most GRAPH_MAX nodes a column; the rest as one "more" node. */
function bounded(nodes, what) {
  if (nodes.length <= GRAPH_MAX) return nodes;
  var more = nodes.length - (GRAPH_MAX - 1);
  return nodes.slice(0, GRAPH_MAX - 1).concat([{ key: '+more', kind: 'more', one: '+' + more + ' more ' + what,
    two: 'listed below', title: more + ' more ' + what + ', listed below', step: null }]);
}

/** The nodes and edges of a call's provenance (why's origins and session origins). */
function provenanceGraph(p, e) {
  var pages = [], values = [], edges = [], pageAt = new Map(), valueAt = new Map();
  function page(key, node) {
    if (!pageAt.has(key)) { pageAt.set(key, pages.length); pages.push(node); }
    return pageAt.get(key);
  }
  p.origins.forEach(function (o) {
    var from = o.step === null
      ? page('none:' + o.page_sha256, { kind: 'page', one: 'a page no step brought in',
        two: 'page ' + String(o.page_sha256).slice(0, 12), title: 'page ' + o.page_sha256, step: null })
      : page('step:' + o.step + ':' + o.page_sha256, { kind: 'page', one: 'step ' + o.step + ' · ' + o.source,
        two: 'page ' + String(o.page_sha256).slice(0, 12), title: 'step ' + o.step + ' ' + o.source + ' page ' + o.page_sha256, step: o.step });
    if (!valueAt.has(o.argument)) {
      valueAt.set(o.argument, values.length);
      values.push({ kind: 'value', one: o.argument, two: o.labels.join(', ') || '-',
        title: o.argument + ' (' + o.labels.join(', ') + ')', step: null });
    }
    edges.push([from, valueAt.get(o.argument)]);
  });
  // The session's labels, one node per step they came from.
  var session = [], sessionAt = new Map();
  p.session_origins.forEach(function (o) {
    var key = o.step + ':' + o.source;
    if (!sessionAt.has(key)) {
      sessionAt.set(key, session.length);
      session.push({ kind: 'session', labels: [], two: o.source, step: o.step });
    }
    session[sessionAt.get(key)].labels.push(o.label);
  });
  session.forEach(function (node) {
    node.one = 'session ' + node.labels.join(', ') + ' since step ' + node.step;
    node.title = 'the session is ' + node.labels.join(', ') + ' since step ' + node.step + ' (' + node.two + ')';
  });
  var call = { kind: 'call ' + e.verdict, one: 'step ' + e.step + ' · ' + e.syscall + ' · ' + e.verdict,
    two: e.target, title: e.syscall + ' ' + e.target, step: null };
  return { pages: bounded(pages.concat(session), 'sources'), values: bounded(values, 'values'),
    sessionFrom: pages.length, edges: edges, call: call };
}

function edge(x1, y1, x2, y2, dashed) {
  var mid = (x1 + x2) / 2;
  return svg('path', { d: 'M' + x1 + ',' + y1 + ' C' + mid + ',' + y1 + ' ' + mid + ',' + y2 + ' ' + x2 + ',' + y2 },
    'pg-edge' + (dashed ? ' dashed' : ''));
}

/** The graph as SVG: pages -> values -> the call; session labels -> the call, dashed. */
function graphView(p, e) {
  var graph = provenanceGraph(p, e);
  var rows = Math.max(graph.pages.length, graph.values.length, 1);
  var height = rows * (NODE_H + GAP_Y);
  var yOf = function (i, n) { return (height - n * (NODE_H + GAP_Y)) / 2 + i * (NODE_H + GAP_Y); };
  // Drawn to the pane's width (scaled down in a narrow one, never up).
  var root = svg('svg', { viewBox: '0 0 ' + (COL_X[2] + NODE_W) + ' ' + height, role: 'img' }, 'pgraph');
  var label = svg('title');
  label.textContent = 'where the tainted arguments of step ' + e.step + ' came from';
  root.appendChild(label);
  var callY = yOf(0, 1) + NODE_H / 2;
  var shown = function (i, n) { return i < n ? i : n - 1; };
  graph.edges.forEach(function (pair) {
    var from = shown(pair[0], graph.pages.length), to = shown(pair[1], graph.values.length);
    root.appendChild(edge(COL_X[0] + NODE_W, yOf(from, graph.pages.length) + NODE_H / 2,
      COL_X[1], yOf(to, graph.values.length) + NODE_H / 2, false));
  });
  graph.values.forEach(function (node, i) {
    root.appendChild(edge(COL_X[1] + NODE_W, yOf(i, graph.values.length) + NODE_H / 2, COL_X[2], callY, false));
  });
  graph.pages.forEach(function (node, i) {
    if (node.kind === 'session') {
      root.appendChild(edge(COL_X[0] + NODE_W, yOf(i, graph.pages.length) + NODE_H / 2, COL_X[2], callY, true));
    }
  });
  graph.pages.forEach(function (node, i) { root.appendChild(graphNode(node, COL_X[0], yOf(i, graph.pages.length))); });
  graph.values.forEach(function (node, i) { root.appendChild(graphNode(node, COL_X[1], yOf(i, graph.values.length))); });
  root.appendChild(graphNode(graph.call, COL_X[2], yOf(0, 1)));
  var box = el('div', 'pgraph-wrap');
  box.appendChild(root);
  return box;
}
`;
