// The shape of one CLI command, and argument parsing on top of node:util parseArgs.

import { parseArgs } from 'node:util';
import { AgentkError } from '../errors.js';
import type { CliIo, ExitCode } from './io.js';

type OptionSpec =
  | { readonly type: 'boolean'; readonly short?: string }
  | { readonly type: 'string'; readonly short?: string; readonly multiple?: boolean };

export interface Command {
  readonly name: string;
  /** One line for `agentk help`. */
  readonly summary: string;
  /** Usage and options, shown by `agentk <command> --help`. */
  readonly usage: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Positional arguments: [min, max]. */
  readonly positionals: readonly [number, number];
  run(args: ParsedArgs, io: CliIo): ExitCode | Promise<ExitCode>;
}

export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>;
  readonly positionals: readonly string[];
}

export function usageError(message: string): AgentkError {
  return new AgentkError('USAGE', message);
}

export function parseCommandArgs(command: Command, argv: readonly string[]): ParsedArgs {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
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
  };
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

export function flag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
