// Descriptors recorded once per version: a client lists a server's tools again and again
// (every session start, every list_changed), and each listing would otherwise log every
// descriptor anew. A describe whose records (the descriptor's hash among its inputs, its
// labels, the session's context labels, the decision) are the same as those of the last
// describe recorded for its agent and target (a descriptor pinned on its first use and
// then shown as pinned counts as the same) is decided as always but not recorded again: the page it puts into context points at the step that recorded it, and
// fork-replay, which re-decides from the recorded fields alone, would decide it as it
// decides that step. A describe that differs in anything (a new version of the
// descriptor, a poisoned context) is recorded, and is then the one later ones compare to.
// Input distrusted: nothing here is read from outside the kernel.

import { canonicalSha256 } from '../../crypto/canonical-bytes.js';
import type {
  DecisionRecord,
  FlightEvent,
  SyscallEvent,
  SyscallRecord,
} from '../../recorder/event.js';

const RECORD_DOMAIN = 'agentk/describe-record/v1';
const DESCRIBES: ReadonlySet<string> = new Set([
  'tool.describe',
  'resource.describe',
  'prompt.describe',
]);
/** Targets remembered at most; past it, every describe of a new target is recorded. */
const MAX_TARGETS = 20_000;

interface Records {
  readonly syscall: SyscallRecord;
  readonly decision: DecisionRecord;
}

export class DescribedOnce {
  /** `agent\0kind\0target` -> the fingerprint of its last recorded describe, and its event. */
  readonly #last = new Map<string, { fingerprint: string; event: SyscallEvent }>();

  /**
   * The event of a syscall: `append`'s, unless it is a describe the same as the last one
   * recorded for its agent and target, whose event it then is.
   */
  record(agent: string, records: Records, append: () => FlightEvent): SyscallEvent {
    const { kind, target } = records.syscall;
    if (!DESCRIBES.has(kind)) return append() as SyscallEvent;
    const key = `${agent}\0${kind}\0${target}`;
    const print = fingerprint(records);
    const last = this.#last.get(key);
    if (last?.fingerprint === print) return last.event;
    const event = append() as SyscallEvent;
    if (last !== undefined || this.#last.size < MAX_TARGETS) {
      this.#last.set(key, { fingerprint: print, event });
    }
    return event;
  }
}

/**
 * What makes two describes the same. A descriptor pinned on its first use is `pinned` when
 * shown again, by that very hash: no news, so the two pin states count as one.
 */
function fingerprint(records: Records): string {
  const { detail } = records.syscall;
  const same =
    detail?.pin === 'first-use'
      ? { ...records, syscall: { ...records.syscall, detail: { ...detail, pin: 'pinned' } } }
      : records;
  return canonicalSha256(same, RECORD_DOMAIN);
}
