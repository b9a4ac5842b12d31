/**
 * The crash test's plan and report (test/heavy/crash.test.ts). The plan: CRASH_POINTS kill points (default 50)
 * spread evenly over the commands (CRASH_COMMANDS narrows them), in an order and at fractions of each command's
 * measured duration drawn from a seeded RNG (test/fuzz/rng.ts mulberry32; CRASH_SEED, else a fresh seed, printed),
 * each fraction uniform in [0, 1.2). CRASH_PLAN=`build@1234,up@500` replaces it with exact delays in milliseconds
 * (to replay a point). The report: one line per point and a table per command.
 */
import { mulberry32 } from '../fuzz/rng.js';
import { COMMANDS, type CrashCommand } from './crash-cycles.js';

export interface PlannedPoint {
  readonly command: CrashCommand;
  /** Fraction of the command's measured duration (`delayMs` set: that delay instead). */
  readonly fraction: number;
  readonly delayMs?: number;
}

export interface CrashRun {
  readonly seed: number;
  readonly points: readonly PlannedPoint[];
}

const isCommand = (c: string): c is CrashCommand => (COMMANDS as readonly string[]).includes(c);

export function crashPlan(env: NodeJS.ProcessEnv = process.env): CrashRun {
  const seed = Number(env['CRASH_SEED'] || Math.floor(Math.random() * 2 ** 31)) >>> 0; // empty: a fresh seed too
  const fixed = env['CRASH_PLAN'];
  if (fixed) {
    const points = fixed.split(',').map((p): PlannedPoint => {
      const [c = '', ms = ''] = p.trim().split('@');
      if (!isCommand(c) || !/^\d+$/.test(ms)) throw new Error(`CRASH_PLAN: ${p} is not COMMAND@MS (${COMMANDS.join('|')})`);
      return { command: c, fraction: NaN, delayMs: Number(ms) };
    });
    return { seed, points };
  }
  const only = env['CRASH_COMMANDS']?.split(',').map((c) => c.trim());
  const cmds = only ? COMMANDS.filter((c) => only.includes(c)) : [...COMMANDS];
  if (cmds.length === 0) throw new Error(`CRASH_COMMANDS: none of ${COMMANDS.join(',')}`);
  const n = Number(env['CRASH_POINTS'] ?? 50);
  const rng = mulberry32(seed);
  const order = Array.from({ length: n }, (_, i) => cmds[i % cmds.length]!);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return { seed, points: order.map((command) => ({ command, fraction: rng() * 1.2 })) };
}

export interface PointResult {
  readonly index: number;
  readonly command: CrashCommand;
  readonly delayMs: number;
  /** false: the command had finished before the kill. */
  readonly killed: boolean;
  readonly lastLine: string;
  rerun: string;
  rerunMs: number;
  check: 'ok' | 'missing' | 'failed' | '-';
  failures: string[];
}

export function pointLine(r: PointResult): string {
  const when = r.killed ? `killed at ${r.delayMs} ms (last: ${r.lastLine || '-'})` : `finished before ${r.delayMs} ms`;
  const verdict = r.failures.length === 0 ? 'ok' : `FAILED: ${r.failures.map((f) => f.split('\n')[0]).join(' | ')}`;
  return `#${String(r.index + 1).padStart(2)} ${r.command.padEnd(5)} ${when}; rerun ${r.rerunMs} ms: ${r.rerun}; check ${r.check}; ${verdict}`;
}

export function summaryTable(results: readonly PointResult[], durations: ReadonlyMap<CrashCommand, number>): string {
  const rows = [['command', 'measured ms', 'points', 'killed', 'finished first', 'failed']];
  for (const c of COMMANDS) {
    const rs = results.filter((r) => r.command === c);
    if (rs.length === 0) continue;
    rows.push([
      c,
      String(durations.get(c) ?? '-'),
      String(rs.length),
      String(rs.filter((r) => r.killed).length),
      String(rs.filter((r) => !r.killed).length),
      String(rs.filter((r) => r.failures.length > 0).length),
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')).join('\n');
}
