// `agentk view [TRACE|RUN-ID|latest]`: the trace viewer. Writes one self-contained HTML
// file (--out), or serves it on 127.0.0.1 under a random token until Ctrl-C. With no
// trace, lists the runs to pick from.

import { spawn } from 'node:child_process';
import {
  existsSync,
  linkSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { randomHex } from '../../crypto/index.js';
import { AgentkError } from '../../errors.js';
import { DEFAULT_POLICY_PATH } from '../../paths.js';
import { CompiledPolicy } from '../../policy/compile.js';
import { loadPolicyFile } from '../../policy/load.js';
import { LiveModel } from '../../view/live-model.js';
import { buildViewModel, type ViewModel, type ViewOptions } from '../../view/model.js';
import { renderPage, type ViewPage } from '../../view/page.js';
import { serveView } from '../../view/server.js';
import { STATUS_WORD } from '../../view/verification.js';
import {
  type CliRunner,
  type Command,
  flag,
  type ParsedArgs,
  stringOption,
  usageError,
} from '../command.js';
import { type CliIo, EXIT, type ExitCode, printable } from '../io.js';
import { traceOf } from './runs.js';
import { trustPinsOf } from './verify-signatures.js';

export const viewCommand: Command = {
  name: 'view',
  usage: `agentk view [TRACE|RUN-ID|latest] [--out FILE.html [--force]] [--port N] [--follow] [--open]
            [--workspace DIR] [--policy FILE] [--trusted-public-key HEX]... [--trusted-key-manifest FILE]

Shows a flight log in a browser: first whether it verifies (hash chain, seal, checkpoints,
receipts and signers, checked as agentk verify-signatures checks them; an unsealed log is
shown as unsealed and a tampered one as failing, with the first bad line), then every
event in order with filters, search, keyboard navigation (j/k) and links (#step-42), the
earlier step each refused call's tainted arguments came from, and a summary.

With no trace: lists the runs of the workspace (agentk runs list) and exits.

  --out FILE.html   write one self-contained page (works offline; nothing is fetched);
                    refuses to replace an existing file unless --force
  --port N          serve on 127.0.0.1:N (default: a free port); the printed address
                    holds a random token, and requests without it get 403. Ctrl-C stops
  --follow          live: the served page updates as the log grows (a proxy writing it)
  --open            open the page in the default browser
  --policy FILE     the policy the run used, for the rule conditions a refusal met
                    (default: the default policy)
  --trusted-public-key HEX, --trusted-key-manifest FILE
                    pin the signers, as for agentk verify-signatures

The page is a view, not a verdict for scripts: it is written or served whatever the log's
state (exit 0); agentk verify gives the exit code.`,
  options: {
    out: { type: 'string', short: 'o' },
    force: { type: 'boolean' },
    port: { type: 'string' },
    follow: { type: 'boolean' },
    open: { type: 'boolean' },
    workspace: { type: 'string' },
    policy: { type: 'string' },
    'trusted-public-key': { type: 'string', multiple: true },
    'trusted-key-manifest': { type: 'string' },
  },
  positionals: [0, 1],
  async run(args, io, cli) {
    const ref = args.positionals[0];
    const out = stringOption(args, 'out');
    const port = portOf(args);
    if (out !== undefined && port !== undefined) throw usageError('give --out or --port, not both');
    if (out === undefined && flag(args, 'force')) throw usageError('--force goes with --out');
    if (out !== undefined && flag(args, 'follow')) {
      throw usageError('--follow serves a live page: give it without --out');
    }
    if (ref === undefined) return listRuns(args, io, cli);
    const path = traceOf(ref, args, io);
    const options = viewOptions(args, io);
    const live = flag(args, 'follow') ? new LiveModel(path, options) : null;
    const model = live ? live.model() : buildViewModel(path, options);
    if (out !== undefined) {
      const target = resolve(io.cwd, out);
      writePage(target, renderPage(model).html, flag(args, 'force'));
      io.stdout(`Wrote ${printable(target)}\n  ${printable(statusLine(model))}\n`);
      if (flag(args, 'open')) openInBrowser(target, io);
      return EXIT.ok;
    }
    const how = { port: port ?? 0, open: flag(args, 'open'), live };
    return serve(path, options, model, how, io);
  },
};

function portOf(args: ParsedArgs): number | undefined {
  const text = stringOption(args, 'port');
  if (text === undefined) return undefined;
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw usageError(
      `--port must be a number from 0 to 65535, not ${JSON.stringify(text.slice(0, 20))}`,
    );
  }
  return port;
}

function viewOptions(args: ParsedArgs, io: CliIo): ViewOptions {
  const policyPath = resolve(io.cwd, stringOption(args, 'policy') ?? DEFAULT_POLICY_PATH);
  const policy = { path: policyPath, policy: new CompiledPolicy(loadPolicyFile(policyPath)) };
  const pins = trustPinsOf(args);
  return pins ? { policy, pins } : { policy };
}

function statusLine(model: ViewModel): string {
  return `${STATUS_WORD[model.verification.status]}: ${model.verification.headline}`;
}

async function listRuns(args: ParsedArgs, io: CliIo, cli: CliRunner): Promise<ExitCode> {
  const workspace = stringOption(args, 'workspace');
  const code = await cli.run(
    ['runs', 'list', ...(workspace !== undefined ? ['--workspace', workspace] : [])],
    io,
  );
  if (code !== EXIT.ok) return code;
  io.stdout(
    '\nView one: agentk view latest (or a run id, or a trace file); --out FILE.html writes a self-contained page\n',
  );
  return EXIT.ok;
}

/**
 * Write the page next to its target and move it in whole, so a reader never sees half a
 * page. Without `force`, a hard link puts it in place only if nothing is there (atomic,
 * no check-then-write race); with it, a rename replaces what is there.
 */
export function writePage(target: string, html: string, force: boolean): void {
  const dir = dirname(target);
  let stats: Stats | undefined;
  try {
    stats = statSync(dir);
  } catch {
    stats = undefined;
  }
  if (!stats?.isDirectory()) throw new AgentkError('FILE_NOT_FOUND', `no such directory: ${dir}`);
  if (!force && existsSync(target)) {
    throw usageError(`${target} exists; give --force to replace it`);
  }
  const temp = join(dir, `.${basename(target)}.${randomHex(8)}.tmp`);
  try {
    writeFileSync(temp, html, { flag: 'wx', mode: 0o644 });
    if (force) renameSync(temp, target);
    else linkSync(temp, target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    if (code === 'EEXIST') throw usageError(`${target} exists; give --force to replace it`);
    throw new AgentkError('FILE_UNREADABLE', `cannot write ${target} (${code})`);
  } finally {
    rmSync(temp, { force: true });
  }
}

/** A page per request, rebuilt only when the log file changed (size or time). */
function cachedPage(path: string, options: ViewOptions, first: ViewModel): () => ViewPage {
  const key = (stats: Stats) => `${stats.size}:${stats.mtimeMs}`;
  // Served: the details stay here, fetched by the page under its build's name.
  const served = () => ({ served: { build: randomHex(8) } });
  let built = { key: key(statSync(path)), page: renderPage(first, served()) };
  return () => {
    const now = key(statSync(path));
    if (now !== built.key) {
      built = { key: now, page: renderPage(buildViewModel(path, options), served()) };
    }
    return built.page;
  };
}

/** Live: the page of what the live model last read, rebuilt only when that changed. */
function livePage(live: LiveModel): () => ViewPage {
  let built: { key: string; page: ViewPage } | null = null;
  return () => {
    const model = live.model();
    const key = `${live.generation}:${model.events.rows.step.length}:${model.verification.headline}`;
    if (built?.key !== key) {
      // Details of one generation only grow: its number names them.
      const served = { build: String(live.generation) };
      built = { key, page: renderPage(model, { live: { generation: live.generation }, served }) };
    }
    return built.page;
  };
}

async function serve(
  path: string,
  options: ViewOptions,
  model: ViewModel,
  how: { readonly port: number; readonly open: boolean; readonly live: LiveModel | null },
  io: CliIo,
): Promise<ExitCode> {
  const { port, open, live } = how;
  const follow = live !== null;
  let server: Awaited<ReturnType<typeof serveView>>;
  try {
    server = live
      ? await serveView(livePage(live), port, live)
      : await serveView(cachedPage(path, options, model), port);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw usageError(`cannot listen on 127.0.0.1:${port} (${code})`);
  }
  io.stdout(
    [
      `Viewing ${printable(path)}`,
      `  ${printable(statusLine(model))}`,
      `  ${server.url}`,
      follow
        ? '  (127.0.0.1 only; the token in the address is its key. Live: new events show as they come. Ctrl-C stops.)'
        : '  (127.0.0.1 only; the token in the address is its key. Reload to see new events. Ctrl-C stops.)',
      '',
    ].join('\n'),
  );
  if (open) openInBrowser(server.url, io);
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await server.close();
  io.stderr('stopped\n');
  return EXIT.ok;
}

/** Hand a file or address to the desktop's opener; a failure is a note, not an error. */
function openInBrowser(target: string, io: CliIo): void {
  const [command, ...rest] =
    process.platform === 'darwin'
      ? ['open']
      : process.platform === 'win32'
        ? ['cmd', '/c', 'start', '""']
        : ['xdg-open'];
  try {
    const child = spawn(command as string, [...rest, target], { stdio: 'ignore', detached: true });
    child.on('error', () => io.stderr(`could not start ${command}: open the page yourself\n`));
    child.unref();
  } catch {
    io.stderr(`could not start ${command}: open the page yourself\n`);
  }
}
