// The viewer page: one self-contained HTML document (style, data and script inlined; no
// request leaves it), with a strict Content-Security-Policy that allows exactly its own
// style and script by their hashes. The model goes in as JSON inside a
// <script type="application/json"> block, with every `<`, `>` and `&` escaped, so no
// string of the log can end that block or be read as markup.

import { sha256Hex } from '../crypto/index.js';
import { EVIDENCE_SCRIPT } from './app-evidence.js';
import { PANELS_SCRIPT } from './app-panels.js';
import { TIMELINE_SCRIPT } from './app-timeline.js';
import type { ViewModel } from './model.js';
import { ROW_HEIGHT, STYLE } from './style.js';

export interface ViewPage {
  readonly html: string;
  /** The policy, also sent as a header when served. */
  readonly csp: string;
  /** Served: the events' details the page fetches (`details?b=BUILD&from=A&to=B`), not embedded. */
  readonly details?: { readonly build: string; readonly texts: readonly string[] };
}

/** How the page is delivered: written (everything embedded), or served (details fetched). */
export interface PageOptions {
  /** Served live: the page listens to `events` beside it. */
  readonly live?: { readonly generation: number };
  /** Served: the details stay on the server under this build name, fetched when selected. */
  readonly served?: { readonly build: string };
}

const INERT: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/** JSON that is inert inside a script data block: no `<`, `>`, `&`, U+2028 or U+2029. */
export function embeddedJson(value: unknown): string {
  // One pass over what may be tens of megabytes.
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (char) => INERT[char] as string);
}

/**
 * Each event's details, one JSON text a line, inert as embeddedJson is. JSON text holds
 * no raw line break (JSON.stringify escapes them; U+2028 and U+2029 are escaped here).
 */
export function inertDetails(details: readonly string[]): string {
  return details.join('\n').replace(/[<>&\u2028\u2029]/g, (char) => INERT[char] as string);
}

const sha256Base64 = (text: string) => Buffer.from(sha256Hex(text), 'hex').toString('base64');

/**
 * The page's policy: nothing but its own hashed style and script; no frame, no form; no
 * connection but, served, to its own server (its event stream, its events' details).
 */
export function contentSecurityPolicy(script: string, style: string, connect = false): string {
  return [
    "default-src 'none'",
    `script-src 'sha256-${sha256Base64(script)}'`,
    `style-src 'sha256-${sha256Base64(style)}'`,
    "img-src 'none'",
    // Served: its own server's event stream and details, nothing else.
    connect ? "connect-src 'self'" : "connect-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

const BODY = `<header id="banner" class="banner">
<div><span id="banner-status" class="status"></span><span id="banner-headline"></span>
<a id="banner-fail-link" hidden></a></div>
<div id="banner-meta" class="meta mono"></div>
<details><summary>what was checked</summary><ul id="banner-details"></ul></details>
</header>
<nav class="tabs" aria-label="views">
<button type="button" id="tab-timeline" aria-selected="true">Timeline</button>
<button type="button" id="tab-summary" aria-selected="false">Summary</button>
<span id="tab-counts" class="counts"></span>
</nav>
<main>
<section id="view-timeline" class="split-wrap">
<div class="filters">
<label>verdict <select id="f-verdict"><option value="">all</option><option value="allow">allow</option><option value="approved">approved</option><option value="ask">ask</option><option value="deny">deny</option></select></label>
<label>syscall <select id="f-syscall"><option value="">all</option></select></label>
<label>server <select id="f-server"><option value="">all</option></select></label>
<label>label <select id="f-label"><option value="">all</option></select></label>
<input type="search" id="f-search" placeholder="search targets, reasons, rules ( / )" aria-label="search">
<button type="button" id="f-reset">reset</button>
<span id="f-count" class="count"></span>
<span id="notice" class="count"></span>
<span id="live" class="count" hidden></span>
</div>
<div id="fail" class="fail-line" hidden tabindex="-1"><strong id="fail-title"></strong><pre id="fail-excerpt" class="mono"></pre></div>
<div class="split">
<div id="list" class="list" tabindex="0" aria-label="events (j/k or arrows to move)"><div id="spacer"></div><div id="rows" class="rows"></div><div id="list-empty" class="empty" hidden>No event matches the filters.</div></div>
<aside id="detail" class="detail"><div class="empty">Select an event (click, j/k or the arrow keys).</div></aside>
</div>
</section>
<section id="view-summary" class="summary" hidden></section>
</main>`;

/**
 * The page for a model. The data block holds the model without the events' details; those
 * follow in a block of their own (written), or stay on the server (served), which the
 * page asks for an event's when it is selected. Served live, it listens to `events` too.
 */
export function renderPage(model: ViewModel, how: PageOptions = {}): ViewPage {
  const { live, served } = how;
  const script = `(function () {\n'use strict';\nvar H = ${ROW_HEIGHT};\n${TIMELINE_SCRIPT}\n${EVIDENCE_SCRIPT}\n${PANELS_SCRIPT}\n})();\n`;
  const csp = contentSecurityPolicy(script, STYLE, live !== undefined || served !== undefined);
  // The details go in a block of their own, one JSON text a line, parsed per event.
  const { details, ...rows } = model.events;
  // Live: the page names its build when it listens, to be sent only the rows it lacks.
  const data = {
    ...model,
    events: rows,
    ...(live ? { follow: { generation: live.generation } } : {}),
    ...(served ? { remote: { build: served.build, count: details.length } } : {}),
  };
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>AgentK trace viewer</title>
<style>${STYLE}</style>
</head>
<body>
${BODY}
<script type="application/json" id="agentk-data">${embeddedJson(data)}</script>
<script>${script}</script>
<script type="application/json" id="agentk-details">${served ? '' : inertDetails(details)}</script>
</body>
</html>
`;
  return served ? { html, csp, details: { build: served.build, texts: details } } : { html, csp };
}
