// Room sizes, as docs/architecture.md sets them: a source file a newcomer can read in one
// sitting, a function that fits on a screen. A file or function that outgrows them is split
// by what it decides; the only exceptions are data tables named below, which read as lists.

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/paths.js';

const SRC = join(PACKAGE_ROOT, 'src');
const MAX_FILE_LINES = 500;
const MAX_FUNCTION_LINES = 80;

/** Functions that are data tables (one entry per row), allowed past the function limit. */
const TABLES = new Set(['release/audit.ts:smokes']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function lineCount(text: string): number {
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

function nameOf(node: ts.Node): string {
  if (
    (ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isGetAccessor(node)) &&
    node.name
  ) {
    return node.name.getText();
  }
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent)) return parent.name.getText();
  if (parent && ts.isPropertyAssignment(parent)) return parent.name.getText();
  return '(anonymous)';
}

interface Measured {
  readonly where: string;
  readonly lines: number;
}

/** Every function-like node in a file with its length in lines (nested ones included). */
function functionLengths(file: string): Measured[] {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: Measured[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      found.push({ where: `${relative(SRC, file)}:${nameOf(node)}`, lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('source sizes', () => {
  const files = sourceFiles(SRC);

  it(`keeps every file under ${MAX_FILE_LINES} lines`, () => {
    const long = files
      .map((file) => ({ where: relative(SRC, file), lines: lineCount(readFileSync(file, 'utf8')) }))
      .filter((file) => file.lines > MAX_FILE_LINES);
    expect(long).toEqual([]);
  });

  it(`keeps every function under ${MAX_FUNCTION_LINES} lines, data tables aside`, () => {
    const all = files.flatMap(functionLengths);
    const long = all.filter((fn) => fn.lines > MAX_FUNCTION_LINES && !TABLES.has(fn.where));
    expect(long).toEqual([]);
    // Each allowed table still exists and is still past the limit; otherwise drop it here.
    for (const table of TABLES) {
      expect(all.find((fn) => fn.where === table)?.lines ?? 0).toBeGreaterThan(MAX_FUNCTION_LINES);
    }
  });
});
