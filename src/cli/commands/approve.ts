// `agentk approve <request-hash>`: approve one pending request, out of band.

import { resolve } from 'node:path';
import { ensureState, stateDirs } from '../../config/state.js';
import { writeApproval } from '../../evidence/approvals.js';
import { loadSigner } from '../../evidence/keys.js';
import { type Command, flag, json, stringOption, usageError } from '../command.js';
import { EXIT, printable } from '../io.js';

export const approveCommand: Command = {
  name: 'approve',
  usage: `agentk approve <request-hash> [--session] [--clear-compromised] [--approver NAME]
                      [--approvals-dir DIR] [--json]

When a client cannot ask its user (no MCP elicitation), an 'ask' is denied with its
request hash. This writes a signed approval for exactly that request (<hash>.json in the
state directory's approvals, $AGENTK_HOME/approvals, where every proxy of this user looks,
whatever directory you run this in; signed with the active signing key, valid one hour); the
proxy records it as a human.approve syscall when the agent retries the same request, and
spends it. Keep the signing key out of the agent's reach: whoever can run this with it can
approve.

  --session   approve for the rest of the session: the same tool with the same targets,
              paths, addresses and amounts goes without a question (one hour at most)
  --clear-compromised
              you checked the content that looked like an injection: the session is no
              longer compromised (writes and sends stop asking for that reason; values
              copied from that content stay labelled)`,
  options: {
    approver: { type: 'string' },
    session: { type: 'boolean' },
    'clear-compromised': { type: 'boolean' },
    'approvals-dir': { type: 'string' },
    json: { type: 'boolean' },
  },
  positionals: [1, 1],
  run(args, io) {
    const hash = args.positionals[0] as string;
    if (!/^[0-9a-f]{64}$/.test(hash))
      throw usageError('the request hash must be 64 lowercase hex digits (from the denial)');
    const approver = stringOption(args, 'approver') ?? io.env.USER ?? 'operator';
    if (approver.length === 0 || approver.length > 200 || printable(approver) !== approver) {
      throw usageError('--approver must be a short name');
    }
    const given = stringOption(args, 'approvals-dir');
    const dirs = stateDirs(io.env, io.cwd);
    const dir = given !== undefined ? resolve(io.cwd, given) : ensureState(dirs, dirs.approvals);
    const scope = flag(args, 'session') ? 'session' : 'once';
    const clear = flag(args, 'clear-compromised');
    const path = writeApproval(dir, hash, approver, loadSigner(io.env), Date.now(), {
      scope,
      clearCompromised: clear,
    });
    if (flag(args, 'json')) {
      io.stdout(
        json({
          ok: true,
          request_hash: hash,
          approver,
          scope,
          clear_compromised: clear,
          file: path,
        }),
      );
    } else {
      const what =
        scope === 'session' ? 'for the session (same tool and targets)' : 'for one retry';
      const cleared = clear ? ', and the session is no longer compromised' : '';
      io.stdout(
        `approved request ${hash} ${what}${cleared} (by ${approver}); written to ${path}\n`,
      );
    }
    return EXIT.ok;
  },
};
