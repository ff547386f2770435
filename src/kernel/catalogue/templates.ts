// Whether a resource URI may have been read through a resource template (RFC 6570), so
// that a read through a template that is not approved is refused like the template itself.
// Conservative, since a match refuses (fail closed): literal text must match exactly; a
// simple expression (`{id}`, `{x,y}`) matches any run of characters without `/`, empty
// included (an undefined variable expands to nothing); an expression with an operator
// (`{+path}`, `{/segments}`, `{?query}`, ...) matches anything. A template too long or
// not well formed matches every URI.
// Linear in the URI for a template of bounded length: the pattern is run as a set of
// states over the URI, never by backtracking.
// Input distrusted: the template (the server's) and the URI (the client's).

/** Longest template matched precisely; a longer one matches every URI. */
export const MAX_TEMPLATE = 512;
/** Longest URI matched precisely against a template; a longer one matches every template. */
export const MAX_URI = 16_384;

/** One step of a pattern: a literal character, or a run of characters. */
type Step = { readonly literal: string } | { readonly run: 'any' | 'segment' };

/** The steps of a template, or null if it is too long or not well formed. */
function steps(template: string): Step[] | null {
  if (template.length > MAX_TEMPLATE) return null;
  const out: Step[] = [];
  let i = 0;
  while (i < template.length) {
    const c = template[i] as string;
    if (c === '}') return null;
    if (c !== '{') {
      out.push({ literal: c });
      i += 1;
      continue;
    }
    const end = template.indexOf('}', i + 1);
    if (end < 0 || template.slice(i + 1, end).includes('{')) return null;
    const operator = template[i + 1];
    const simple = operator !== undefined && /[A-Za-z0-9_%]/.test(operator);
    out.push({ run: simple ? 'segment' : 'any' });
    i = end + 1;
  }
  return out;
}

/** Whether `uri` may be an expansion of `template` (erring towards yes). */
export function templateMayMatch(template: string, uri: string): boolean {
  const pattern = steps(template);
  if (pattern === null || uri.length > MAX_URI) return true;
  // active[j]: the URI read so far can be matched by the first j steps.
  let active = close(pattern, initial(pattern.length));
  // By UTF-16 unit, as the template's literals are.
  for (let k = 0; k < uri.length; k += 1) {
    const c = uri[k];
    const next = initial(pattern.length, false);
    let any = false;
    pattern.forEach((step, j) => {
      if (!active[j]) return;
      if ('literal' in step) {
        if (step.literal === c) next[j + 1] = any = true;
      } else if (step.run === 'any' || c !== '/') next[j] = any = true;
    });
    if (!any) return false;
    active = close(pattern, next);
  }
  return active[pattern.length] === true;
}

function initial(steps: number, start = true): boolean[] {
  const states = new Array<boolean>(steps + 1).fill(false);
  states[0] = start;
  return states;
}

/** Runs may be empty: a state before a run also stands after it. */
function close(pattern: readonly Step[], states: boolean[]): boolean[] {
  pattern.forEach((step, j) => {
    if (states[j] && 'run' in step) states[j + 1] = true;
  });
  return states;
}
