// `agentk pins list|show|approve`: the pinned MCP catalogues and their pending changes.

import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { stateDirs } from '../../config/state.js';
import { isAgentkError } from '../../errors.js';
import { CATALOGUE_KINDS, type PinFile, PinStore } from '../../kernel/catalogue/pins.js';
import { type Command, flag, json, stringOption, usageError } from '../command.js';
import { type CliIo, EXIT, type ExitCode, printable, table } from '../io.js';

function diff(before: Record<string, string>, after: Record<string, string>): string[] {
  const out: string[] = [];
  for (const name of Object.keys(after).sort()) {
    if (!(name in before)) out.push(`+ ${name}`);
    else if (before[name] !== after[name]) out.push(`~ ${name}`);
  }
  for (const name of Object.keys(before).sort()) if (!(name in after)) out.push(`- ${name}`);
  return out;
}

export const pinsCommand: Command = {
  name: 'pins',
  usage: `agentk pins list [--workspace DIR | --pins-dir DIR] [--json]
agentk pins show --server-id ID [--workspace DIR | --pins-dir DIR] [--json]
agentk pins approve --server-id ID [--workspace DIR | --pins-dir DIR] [--json]

The proxy pins each server's catalogue (tools, resources, resource templates, prompts)
the first time it sees it (canonical hashes, in <server-id>.json under the state
directory's pins for the workspace the proxy runs in: --workspace names it, default the
current directory). A descriptor that is new, renamed or changed afterwards is labelled
poisoned-suspect, and calls to it are refused until a person reviews the change and
approves the pending catalogue: show lists the changes (+ new, ~ changed, - gone);
approve makes the pending catalogue the pinned one (a running proxy takes it at the next
call or listing). A server that shows the pinned catalogue again clears what was
pending. Tools a server shows only to a client that declares a capability (sampling,
elicitation, roots) are added without review the first time such a client lists them,
if every pinned tool is listed with them unchanged; a kind first listed empty stays
pinned as empty. list exits 1 when a pin file cannot be read (it is listed, with what is
wrong, beside the others).`,
  options: {
    'server-id': { type: 'string' },
    'pins-dir': { type: 'string' },
    workspace: { type: 'string' },
    json: { type: 'boolean' },
  },
  positionals: [1, 1],
  run(args, io) {
    const action = args.positionals[0] as string;
    const given = stringOption(args, 'pins-dir');
    const workspace = stringOption(args, 'workspace');
    if (given !== undefined && workspace !== undefined) {
      throw usageError('give --pins-dir or --workspace, not both');
    }
    const dir =
      given !== undefined
        ? resolve(io.cwd, given)
        : stateDirs(io.env, resolve(io.cwd, workspace ?? '.')).pins;
    const store = new PinStore(dir);
    const asJson = flag(args, 'json');
    if (action === 'list') return list(store, dir, asJson, io);
    const server = stringOption(args, 'server-id');
    if (server === undefined) throw usageError(`pins ${action} needs --server-id ID`);
    if (action === 'show') return show(store, dir, server, asJson, io);
    if (action === 'approve') return approve(store, server, asJson, io);
    throw usageError(
      `unknown pins action ${JSON.stringify(action.slice(0, 20))} (list, show, approve)`,
    );
  },
};

const KINDS = CATALOGUE_KINDS;

/** Every change from one catalogue to another, as `+ tools/name` lines. */
function changesBetween(before: PinFile | null, after: PinFile): string[] {
  return KINDS.flatMap((kind) =>
    diff(before?.[kind] ?? {}, after[kind]).map(
      (line) => `${line.slice(0, 2)}${kind}/${line.slice(2)}`,
    ),
  );
}

function list(store: PinStore, dir: string, asJson: boolean, io: CliIo): ExitCode {
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter(
      (name) => name.endsWith('.json') && !name.endsWith('.pending.json'),
    );
  } catch {
    files = [];
  }
  const servers = files.map((name) => name.slice(0, -'.json'.length)).sort();
  // A file the store cannot read is listed with what is wrong, and the rest still shown.
  const rows = servers.map((server) => {
    try {
      const pins = store.load(server);
      return {
        server_id: server,
        tools: Object.keys(pins?.tools ?? {}).length,
        resources: Object.keys(pins?.resources ?? {}).length,
        templates: Object.keys(pins?.templates ?? {}).length,
        prompts: Object.keys(pins?.prompts ?? {}).length,
        pending: store.loadPending(server) !== null,
      };
    } catch (error) {
      if (!isAgentkError(error)) throw error;
      return { server_id: server, error: error.message };
    }
  });
  if (asJson) io.stdout(json({ pins_dir: dir, servers: rows }));
  else if (rows.length === 0) io.stdout(`no pinned catalogues in ${dir}\n`);
  else {
    const lines = table(
      rows.map((r) =>
        'error' in r
          ? [`  ${r.server_id}`, `unusable: ${r.error}`, '']
          : [
              `  ${r.server_id}`,
              `${r.tools} tools, ${r.resources} resources, ${r.templates} templates, ${r.prompts} prompts`,
              r.pending ? 'changes pending approval' : '',
            ],
      ),
    );
    io.stdout(`${lines.map(printable).join('\n')}\n`);
  }
  return rows.some((r) => 'error' in r) ? EXIT.failed : EXIT.ok;
}

function show(store: PinStore, dir: string, server: string, asJson: boolean, io: CliIo): ExitCode {
  const pins = store.load(server);
  const pending = store.loadPending(server);
  if (!pins) throw usageError(`no pinned catalogue for ${server} in ${dir}`);
  const changes = pending ? changesBetween(pins, pending) : [];
  if (asJson) {
    io.stdout(
      json({ server_id: server, pinned_at: pins.pinned_at, pins, pending_changes: changes }),
    );
    return EXIT.ok;
  }
  const counts = KINDS.map((kind) => `${Object.keys(pins[kind]).length} ${kind}`).join(', ');
  io.stdout(
    [
      `${server}: pinned ${pins.pinned_at}; ${counts}`,
      ...(changes.length > 0
        ? ['pending changes:', ...changes.map((c) => `  ${c}`)]
        : ['no pending changes']),
      '',
    ]
      .map(printable)
      .join('\n'),
  );
  return EXIT.ok;
}

function approve(store: PinStore, server: string, asJson: boolean, io: CliIo): ExitCode {
  const { before, after } = store.approve(server, new Date().toISOString());
  const changes = changesBetween(before, after);
  if (asJson) {
    io.stdout(json({ ok: true, server_id: server, approved_changes: changes }));
    return EXIT.ok;
  }
  const plural = changes.length === 1 ? '' : 's';
  io.stdout(
    [
      `approved ${changes.length} change${plural} to ${server}'s catalogue`,
      ...changes.map((c) => `  ${c}`),
      '',
    ]
      .map(printable)
      .join('\n'),
  );
  return EXIT.ok;
}
