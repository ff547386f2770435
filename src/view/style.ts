// The viewer page's stylesheet, inlined into the page (allowed by its hash in the page's
// Content-Security-Policy). No fonts, images or anything fetched: the page works offline.

export const ROW_HEIGHT = 26;

export const STYLE = `
:root { color-scheme: light dark; --bg: #fff; --fg: #1b1f24; --muted: #5b6570; --line: #d8dee4;
  --allow: #1a7f37; --deny: #cf222e; --ask: #9a6700; --approved: #0969da; --sel: #ddf4ff;
  --ok-bg: #dafbe1; --warn-bg: #fff8c5; --bad-bg: #ffebe9; }
@media (prefers-color-scheme: dark) { :root { --bg: #0d1117; --fg: #e6edf3; --muted: #8d96a0;
  --line: #30363d; --sel: #1f3a5f; --ok-bg: #12331c; --warn-bg: #3b2e05; --bad-bg: #4b1113; } }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.4 system-ui, sans-serif; background: var(--bg); color: var(--fg);
  display: flex; flex-direction: column; height: 100vh; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
.banner { padding: 10px 14px; border-bottom: 3px solid var(--line); }
.banner.verified { background: var(--ok-bg); border-color: var(--allow); }
.banner.unsealed { background: var(--warn-bg); border-color: var(--ask); }
.banner.failed { background: var(--bad-bg); border-color: var(--deny); }
.banner .status { font-weight: 700; margin-right: 8px; letter-spacing: .03em; }
.banner details { margin-top: 4px; color: var(--muted); }
.banner ul { margin: 4px 0 0 18px; padding: 0; }
.meta { color: var(--muted); margin-top: 2px; word-break: break-all; }
nav.tabs { display: flex; gap: 4px; padding: 6px 14px 0; border-bottom: 1px solid var(--line); align-items: end; }
nav.tabs button { border: 1px solid var(--line); border-bottom: none; background: none; color: var(--fg);
  padding: 5px 12px; border-radius: 6px 6px 0 0; cursor: pointer; }
nav.tabs button[aria-selected="true"] { background: var(--sel); font-weight: 600; }
nav.tabs .counts { margin-left: auto; padding-bottom: 5px; color: var(--muted); }
main { flex: 1; min-height: 0; display: flex; flex-direction: column; }
.split-wrap { flex: 1; min-height: 0; display: flex; flex-direction: column; }
.filters { display: flex; flex-wrap: wrap; gap: 8px; padding: 8px 14px; align-items: center;
  border-bottom: 1px solid var(--line); }
.filters input[type=search] { min-width: 260px; }
.filters .count { color: var(--muted); }
.fail-line { margin: 8px 14px; padding: 8px 10px; border: 2px solid var(--deny); background: var(--bad-bg);
  border-radius: 6px; }
.fail-line pre { white-space: pre-wrap; word-break: break-all; max-height: 8em; overflow: auto; margin: 6px 0 0; }
.split { flex: 1; min-height: 0; display: flex; }
.list { flex: 3; overflow-y: auto; position: relative; outline: none; border-right: 1px solid var(--line); }
.list:focus-visible { box-shadow: inset 0 0 0 2px var(--approved); }
.rows { position: absolute; left: 0; right: 0; top: 0; }
.row { position: absolute; left: 0; right: 0; height: ${ROW_HEIGHT}px; display: flex; gap: 8px;
  align-items: center; padding: 0 10px; border-bottom: 1px solid var(--line); cursor: pointer;
  white-space: nowrap; overflow: hidden; }
.row:hover { background: color-mix(in srgb, var(--sel) 50%, transparent); }
.row.selected { background: var(--sel); }
.row span { overflow: hidden; text-overflow: ellipsis; }
.c-step { width: 52px; text-align: right; color: var(--muted); flex: none; }
.c-dt { width: 64px; text-align: right; color: var(--muted); flex: none; }
.c-verdict { width: 72px; flex: none; }
.c-syscall { width: 130px; flex: none; }
.c-target { flex: 3; min-width: 120px; }
.c-rule { flex: 2; min-width: 80px; color: var(--muted); }
.c-labels { flex: 1; min-width: 60px; color: var(--muted); }
.badge { display: inline-block; padding: 0 6px; border-radius: 10px; font-size: 11px; font-weight: 600;
  color: #fff; line-height: 18px; }
.badge.allow { background: var(--allow); } .badge.deny { background: var(--deny); }
.badge.ask { background: var(--ask); } .badge.approved { background: var(--approved); }
.detail { flex: 2; overflow-y: auto; padding: 10px 14px; min-width: 280px; }
.detail h2 { font-size: 15px; margin: 0 0 8px; }
.detail dl { display: grid; grid-template-columns: max-content 1fr; gap: 3px 10px; margin: 0; }
.detail dt { color: var(--muted); }
.detail dd { margin: 0; word-break: break-word; }
.detail ul { margin: 2px 0; padding-left: 18px; }
.record table { border-collapse: collapse; margin: 2px 0 4px; }
.record td { padding: 0 8px 0 0; vertical-align: top; word-break: break-word; }
.record td:first-child { color: var(--muted); white-space: nowrap; }
.copy { font-size: 11px; margin-left: 6px; padding: 0 5px; cursor: pointer; }
.empty { padding: 20px; color: var(--muted); }
.summary { padding: 10px 14px; overflow-y: auto; display: grid;
  grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 12px; align-content: start; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px; }
.card h3 { margin: 0 0 6px; font-size: 13px; }
.card.wide { grid-column: 1 / -1; }
.card table { border-collapse: collapse; width: 100%; }
.card td { padding: 1px 6px 1px 0; vertical-align: top; word-break: break-word; }
.card td.n { text-align: right; width: 1%; white-space: nowrap; color: var(--muted); }
.bar { display: flex; height: 40px; align-items: flex-end; gap: 1px; }
.bar .col { flex: 1; display: flex; flex-direction: column-reverse; height: 100%; }
.bar .seg.allow { background: var(--allow); } .bar .seg.deny { background: var(--deny); }
.bar .seg.ask { background: var(--ask); } .bar .seg.approved { background: var(--approved); }
.session { display: grid; grid-template-columns: minmax(160px, 22%) 1fr; gap: 8px; align-items: end;
  margin: 4px 0; }
.session-name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.badge.pin-first { background: var(--approved); } .badge.pin-other { background: var(--ask); }
.pgraph-wrap { overflow-x: auto; max-width: 100%; }
.detail dd.wide { grid-column: 1 / -1; }
.pgraph { display: block; width: 100%; min-width: 430px; max-width: 572px; height: auto;
  font: 10.5px system-ui, sans-serif; }
.pgraph .pg-node rect { fill: var(--bg); stroke: var(--line); stroke-width: 1.5; }
.pgraph .pg-node.page rect { stroke: var(--ask); } .pgraph .pg-node.session rect { stroke: var(--ask); stroke-dasharray: 4 3; }
.pgraph .pg-node.value rect { stroke: var(--approved); }
.pgraph .pg-node.call.deny rect { stroke: var(--deny); stroke-width: 2.5; }
.pgraph .pg-node.call.ask rect { stroke: var(--ask); stroke-width: 2.5; }
.pgraph text { fill: var(--fg); } .pgraph text.pg-sub { fill: var(--muted); font-family: ui-monospace, monospace; }
.pgraph a:hover rect, .pgraph a:focus rect { fill: var(--sel); }
.pgraph .pg-edge { fill: none; stroke: var(--muted); stroke-width: 1.3; }
.pgraph .pg-edge.dashed { stroke-dasharray: 5 4; }
[hidden] { display: none !important; }
`;
