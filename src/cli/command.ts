// The shape of one CLI command, and argument parsing on top of node:util parseArgs.

import { parseArgs } from 'node:util';
import { AgentkError } from '../errors.js';
import type { CliIo, ExitCode } from './io.js';

type OptionSpec =
  | { readonly type: 'boolean'; readonly short?: string }
  | { readonly type: 'string'; readonly short?: string; readonly multiple?: boolean };

export interface Command {
  readonly name: string;
  /** Usage and options, shown by `agentk <command> --help`. */
  readonly usage: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Positional arguments: [min, max]. */
  readonly positionals: readonly [number, number];
  /** Options whose values may start with a hyphen (`--arg -c`). */
  readonly hyphenValues?: readonly string[];
  /** Whether the command takes a command line after `--` (in `rest`). */
  readonly takesRest?: boolean;
  run(args: ParsedArgs, io: CliIo, cli: CliRunner): ExitCode | Promise<ExitCode>;
}

/** The CLI itself, for a command that runs others in-process (release-audit). */
export interface CliRunner {
  run(argv: readonly string[], io: CliIo): Promise<ExitCode>;
}

export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>;
  readonly positionals: readonly string[];
  /** Everything after the first standalone `--`, for commands that take one. */
  readonly rest: readonly string[];
}

export function usageError(message: string): AgentkError {
  return new AgentkError('USAGE', message);
}

/**
 * `--name value` becomes `--name=value` for options that accept hyphen-leading values, and
 * everything after the first standalone `--` is split off for commands that take a
 * command line of their own.
 */
function splitArgv(command: Command, argv: readonly string[]): { own: string[]; rest: string[] } {
  const own: string[] = [];
  const hyphen = new Set((command.hyphenValues ?? []).map((name) => `--${name}`));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--' && command.takesRest) return { own, rest: argv.slice(i + 1) };
    if (hyphen.has(arg) && i + 1 < argv.length) {
      own.push(`${arg}=${argv[i + 1]}`);
      i += 1;
    } else own.push(arg);
  }
  return { own, rest: [] };
}

export function parseCommandArgs(command: Command, argv: readonly string[]): ParsedArgs {
  const { own, rest } = splitArgv(command, argv);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: own,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    const message = (error as Error).message.split('\n')[0] ?? 'bad arguments';
    throw usageError(`${message.replace(/\. To specify a positional.*$/, '')}`);
  }
  const [min, max] = command.positionals;
  if (!parsed.values.help) {
    if (parsed.positionals.length < min) {
      throw usageError(`missing argument (usage: ${command.usage.split('\n')[0]})`);
    }
    if (parsed.positionals.length > max) {
      throw usageError(`unexpected argument ${JSON.stringify(parsed.positionals[max])}`);
    }
  }
  return {
    values: parsed.values as ParsedArgs['values'],
    positionals: parsed.positionals,
    rest,
  };
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

/** A repeatable string option's values, in order ([] when not given). */
export function stringsOption(args: ParsedArgs, name: string): readonly string[] {
  const value = args.values[name];
  return Array.isArray(value) ? value.filter((item) => typeof item === 'string') : [];
}

export function flag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
