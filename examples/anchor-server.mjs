#!/usr/bin/env node
// A minimal anchor service for AgentK's seals ([anchors] http), for trying the protocol:
//
//   ANCHOR_TOKEN=... node examples/anchor-server.mjs FILE [PORT]
//
// POST / with a seal-anchor line appends it to FILE (append-only, fsynced); GET /?run_id=R
// answers the lines of run R (404 when there are none). With ANCHOR_TOKEN set, every
// request must carry `Authorization: Bearer <token>`. It listens on 127.0.0.1 only and
// prints `listening on PORT`. Run it where the agent's host cannot write (another machine
// or account) for the anchor to be out of the host's reach.

import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { createServer } from 'node:http';

const [file, portText = '0'] = process.argv.slice(2);
if (!file) {
  console.error('usage: node examples/anchor-server.mjs FILE [PORT]');
  process.exit(2);
}
const token = process.env.ANCHOR_TOKEN;
const MAX_BODY = 4096;

function anchorOf(text) {
  try {
    const line = JSON.parse(text);
    return line?.type === 'seal-anchor' && typeof line.anchor?.run_id === 'string' ? line : null;
  } catch {
    return null;
  }
}

const server = createServer((request, response) => {
  const answer = (status, body = '') => {
    response.writeHead(status, { 'content-type': 'application/x-ndjson' });
    response.end(body);
  };
  if (token && request.headers.authorization !== `Bearer ${token}`) return answer(401);
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  if (request.method === 'GET') {
    const runId = url.searchParams.get('run_id');
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {}
    const lines = text.split('\n').filter((line) => anchorOf(line)?.anchor.run_id === runId);
    return lines.length === 0 ? answer(404) : answer(200, `${lines.join('\n')}\n`);
  }
  if (request.method !== 'POST') return answer(405);
  let body = '';
  request.on('data', (chunk) => {
    body += chunk;
    if (body.length > MAX_BODY) request.destroy();
  });
  request.on('end', () => {
    const line = body.trim();
    if (anchorOf(line) === null) return answer(400);
    const fd = openSync(file, 'a', 0o600);
    try {
      writeSync(fd, `${line}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    answer(201);
  });
});
server.listen(Number(portText), '127.0.0.1', () => {
  console.log(`listening on ${server.address().port}`);
});
