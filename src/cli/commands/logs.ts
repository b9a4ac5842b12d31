/** `logs`: works with `-p NAME` and no compose file. */
import { UsageError } from '../../errors.js';
import { logs } from '../../engine/logs.js';
import type { CommandContext } from '../program.js';
import { LogPrinter } from '../render/log-consumer.js';
import { projectOrName } from '../session.js';
import { withSession } from './common.js';
import { parseDuration } from '../../util/duration.js';

/** `--since`/`--until`: unix seconds, a relative duration (`42m`) or an RFC 3339 timestamp. */
export function parseTime(value: string | undefined, now = Date.now()): string | number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value);
  const ns = /^\d/.test(value) && !/^\d{4}-/.test(value) ? parseDuration(value) : undefined;
  if (ns !== undefined) return (now - ns / 1e6) / 1000;
  if (Number.isNaN(Date.parse(value))) throw new UsageError(`invalid time: ${value} (RFC 3339, unix seconds or a duration such as 42m)`);
  return value;
}

export async function runLogs(
  ctx: CommandContext,
  services: string[],
  opts: { follow?: true; tail?: string; timestamps?: true; since?: string; until?: string; color?: boolean; logPrefix?: boolean; index?: string },
): Promise<void> {
  let tail: number | 'all' | undefined;
  if (opts.tail !== undefined && opts.tail !== 'all') {
    tail = Number(opts.tail);
    if (!Number.isInteger(tail) || tail < 0) throw new UsageError(`invalid --tail value: ${opts.tail}`);
  }
  const index = opts.index === undefined ? undefined : Number(opts.index);
  if (index !== undefined && (!Number.isInteger(index) || index < 1)) throw new UsageError(`invalid --index value: ${opts.index}`);
  const { name } = projectOrName(ctx, services);
  const printer = new LogPrinter(ctx.out.stdout, ctx.out.stderr, {
    colour: opts.color !== false && ctx.globals.ansi !== 'never' && !process.env.NO_COLOR && (ctx.globals.ansi === 'always' || process.stdout.isTTY === true),
    prefix: opts.logPrefix !== false,
    timestamps: opts.timestamps === true,
  });
  try {
    await withSession(ctx, (s) =>
      logs(s.engine, name, printer, {
        services,
        follow: opts.follow,
        tail,
        since: parseTime(opts.since),
        until: parseTime(opts.until),
        timestamps: opts.timestamps,
        index,
      }),
    );
  } catch (e) {
    // Ctrl-C while following is the normal way out.
    if (opts.follow && (e as { code?: string }).code === 'TSC_CANCELED') return;
    throw e;
  }
}
