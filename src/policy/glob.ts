// Target and capability patterns. `*` matches any run of characters (slashes included, so
// `https://*` covers every https URL), `?` matches one character, everything else is
// literal. Patterns are anchored at both ends.

const cache = new Map<string, RegExp>();

export function globToRegExp(pattern: string): RegExp {
  let re = cache.get(pattern);
  if (re) return re;
  let source = '^';
  for (const char of pattern) {
    if (char === '*') {
      if (!source.endsWith('.*')) source += '.*';
    } else if (char === '?') source += '.';
    else source += char.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  re = new RegExp(`${source}$`, 's');
  if (cache.size > 4096) cache.clear();
  cache.set(pattern, re);
  return re;
}

export function globMatch(pattern: string, value: string): boolean {
  return globToRegExp(pattern).test(value);
}

/** One matcher for a list of patterns: true if any matches. */
export function compileGlobs(patterns: readonly string[]): (value: string) => boolean {
  if (patterns.includes('*')) return () => true;
  if (patterns.length === 0) return () => false;
  const re = new RegExp(patterns.map((p) => globToRegExp(p).source).join('|'), 's');
  return (value) => re.test(value);
}
