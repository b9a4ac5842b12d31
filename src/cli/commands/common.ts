/** Helpers shared by the command modules. */
import { UsageError } from '../../errors.js';
import type { CommandContext } from '../program.js';
import { CanceledError } from '../canceled.js';
import { openSession, type Session } from '../session.js';

/** Runs `fn` with a session; an abort by Ctrl-C becomes exit 130. */
export async function withSession<T>(ctx: CommandContext, fn: (s: Session) => Promise<T>, options: { dryRun?: boolean; handleSignals?: boolean } = {}): Promise<T> {
  const s = await openSession(ctx, options);
  try {
    return await fn(s);
  } catch (e) {
    if (s.controller.signal.aborted && !(e instanceof CanceledError)) throw new CanceledError();
    throw e;
  } finally {
    s.close();
  }
}

export function seconds(value: string | undefined, flag = '--timeout'): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`invalid ${flag} value: ${value}`);
  return n;
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

export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Prints the plan for `--dry-run`. */
export function printPlan(ctx: CommandContext, plan: { toString(): string; isEmpty(): boolean; warnings: readonly string[] }): void {
  for (const w of plan.warnings) ctx.out.warn(w);
  ctx.out.stdout.write(plan.isEmpty() ? 'DRY-RUN MODE - nothing to do\n' : `DRY-RUN MODE - plan:\n${plan.toString()}\n`);
}
