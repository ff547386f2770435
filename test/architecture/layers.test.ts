// The dependency direction of src/, as docs/architecture.md draws it: every import points
// down a layer (or stays inside its own area), and no file reaches itself through its
// imports. Imports are read with TypeScript's own pre-processor, dynamic ones included.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';

const SRC = join(PACKAGE_ROOT, 'src');

/**
 * Areas of src/ from the bottom up: an area may import only from areas of a lower layer
 * (and from itself). Each layer's areas are independent of each other.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['errors', 'vocabulary', 'depth', 'memo', 'paths', 'labels'],
  ['crypto', 'config', 'sandbox'],
  ['recorder', 'policy', 'provenance', 'secrets'],
  ['evidence', 'review', 'telemetry'],
  ['kernel', 'view'],
  ['mcp', 'demo'],
  ['eval', 'integrations'],
  ['release'],
  ['cli'],
  ['index'],
];

/**
 * Direction inside an area: the kernel's stages never reach back into the coordinator that
 * runs them, the mediation of MCP messages knows nothing of the proxy that carries them,
 * and the proxy core knows no transport.
 */
const INNER_RULES: readonly {
  readonly from: (file: string) => boolean;
  readonly forbids: (target: string) => boolean;
}[] = [
  {
    // create.ts is the library's front door to the coordinator, not a stage.
    from: (file) =>
      file.startsWith('kernel/') && file !== 'kernel/kernel.ts' && file !== 'kernel/create.ts',
    forbids: (target) => target === 'kernel/kernel.ts',
  },
  {
    from: (file) => file.startsWith('mcp/mediation/'),
    forbids: (target) => target.startsWith('mcp/proxy/'),
  },
  {
    from: (file) => file.startsWith('mcp/proxy/') && file !== 'mcp/proxy/stdio.ts',
    forbids: (target) => target === 'mcp/proxy/stdio.ts',
  },
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Each source file (relative to src/) with the src/ files it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = info.importedFiles
      .map((ref) => ref.fileName)
      .filter((name) => name.startsWith('.'))
      .map((name) => relative(SRC, resolve(dirname(file), name)).replace(/\.js$/, '.ts'));
    graph.set(relative(SRC, file), targets);
  }
  return graph;
}

/** The area of a file: its top-level folder under src/, or its name for a top-level file. */
function areaOf(file: string): string {
  const [first = ''] = file.split('/');
  return first.replace(/\.ts$/, '');
}

function layerOf(area: string): number {
  const layer = LAYERS.findIndex((areas) => areas.includes(area));
  if (layer === -1) throw new Error(`src/${area} is in no layer: add it to LAYERS`);
  return layer;
}

describe('the layers of src/', () => {
  const graph = importGraph();

  it('places every area of src/ in a layer', () => {
    for (const file of graph.keys()) expect(() => layerOf(areaOf(file)), file).not.toThrow();
  });

  it('has every import point down a layer or stay inside its area', () => {
    const upward: string[] = [];
    for (const [file, targets] of graph) {
      for (const target of targets) {
        const [from, to] = [areaOf(file), areaOf(target)];
        if (from !== to && layerOf(to) >= layerOf(from)) upward.push(`${file} -> ${target}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('keeps each coordinator above the stages it runs', () => {
    const upward: string[] = [];
    for (const [file, targets] of graph) {
      for (const target of targets) {
        for (const rule of INNER_RULES) {
          if (rule.from(file) && rule.forbids(target)) upward.push(`${file} -> ${target}`);
        }
      }
    }
    expect(upward).toEqual([]);
  });

  it('has no file that imports itself through others', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, path: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...path.slice(path.indexOf(file)), file].join(' -> '));
        return;
      }
      state.set(file, 'open');
      for (const target of graph.get(file) ?? []) visit(target, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    expect(cycles).toEqual([]);
  });
});
