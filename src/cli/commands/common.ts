/**
 * Helpers shared by the command modules: option builders and value checks. Every command definition loads this
 * module at start-up, so it imports nothing heavy.
 */
import { Option } from '@commander-js/extra-typings';
import { UsageError } from '../../errors.js';
import type { CommandContext } from '../context.js';

export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export const timeoutOption = () => new Option('-t, --timeout <seconds>', 'shutdown timeout in seconds');

export const pullOption = () => new Option('--pull <policy>', 'pull image before running').choices(['always', 'missing', 'never', 'policy', 'build']);

/**
 * An option whose name starts with `--no-` but takes a value (`up --no-attach SERVICE`): commander would treat it as
 * the negation of `--attach`; this one is a plain repeatable option stored under `attribute`.
 */
export function valueOption(flags: string, description: string, attribute: string): Option {
  const o = new Option(flags, description).argParser(collect) as unknown as Option & { negate: boolean; attributeName: () => string };
  o.negate = false;
  o.attributeName = () => attribute;
  return o;
}

export function seconds(value: string | undefined, flag = '--timeout'): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`invalid ${flag} value: ${value}`);
  return n;
}

/** `--index N`: a replica number from 1. */
export function replicaIndex(value: string | undefined): number | undefined {
  const index = value === undefined ? undefined : Number(value);
  if (index !== undefined && (!Number.isInteger(index) || index < 1)) throw new UsageError(`invalid --index value: ${value}`);
  return index;
}

export function parseScale(values: readonly string[] | undefined): Record<string, number> | undefined {
  if (!values || values.length === 0) return undefined;
  const out: Record<string, number> = {};
  for (const v of values) {
    const m = /^([^=]+)=(\d+)$/.exec(v);
    if (!m) throw new UsageError(`invalid --scale value: ${v} (expected SERVICE=NUM)`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** Prints the plan for `--dry-run`. */
export function printPlan(ctx: CommandContext, plan: { toString(): string; isEmpty(): boolean; warnings: readonly string[] }): void {
  for (const w of plan.warnings) ctx.out.warn(w);
  ctx.out.stdout.write(plan.isEmpty() ? 'DRY-RUN MODE - nothing to do\n' : `DRY-RUN MODE - plan:\n${plan.toString()}\n`);
}
