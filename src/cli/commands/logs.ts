/** `logs`: works with `-p NAME` and no compose file. */
import type { Command } from '@commander-js/extra-typings';
import { UsageError } from '../../errors.js';
import type { CommandContext, ContextOf } from '../context.js';
import { followUntilCanceled, logPrinterFor } from '../log-printing.js';
import { parseDuration } from '../../util/duration.js';
import { replicaIndex } from './common.js';
import { isSwarm } from '../swarm/is-swarm.js';

export function logsCommand(program: Command, context: ContextOf) {
  return program
    .command('logs')
    .description('View output from containers')
    .option('-f, --follow', 'follow log output')
    .option('-n, --tail <lines>', 'number of lines to show from the end of the logs for each container', 'all')
    .option('-t, --timestamps', 'show timestamps')
    .option('--since <time>', 'show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)')
    .option('--until <time>', 'show logs before a timestamp or relative')
    .option('--no-color', 'produce monochrome output')
    .option('--no-log-prefix', "don't print prefix in logs")
    .option('--index <n>', 'index of the container if service has multiple replicas')
    .argument('[services...]')
    .action(async (services, opts, cmd) => runLogs(context(cmd), services, opts));
}

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
  const index = replicaIndex(opts.index);
  if (isSwarm(ctx))
    return (await import('../swarm/logs.js')).runSwarmLogs(ctx, services, { ...opts, tail: typeof tail === 'number' ? tail : undefined, index });
  const [{ logs }, { projectOrName, withSession }] = await Promise.all([import('../../engine/logs.js'), import('../session.js')]);
  const { name } = projectOrName(ctx, services);
  const printer = logPrinterFor(ctx, opts);
  const { readWatchLog } = await import('../detached-watch.js');
  await followUntilCanceled(opts.follow === true, () =>
    withSession(ctx, async (s) => {
      // The detached watcher's log (`up -d --watch`) is part of the project's, as `watch | …` lines.
      const watchLog =
        services.length === 0 &&
        readWatchLog(s.engine.runtime, name, (l) => printer.log('watch', { stream: 'stdout', line: l.text, timestamp: l.timestamp }), {
          tail: typeof tail === 'number' ? tail : undefined,
          follow: opts.follow,
          signal: s.controller.signal,
        });
      await logs(s.engine, name, printer, {
        services,
        follow: opts.follow,
        tail,
        since: parseTime(opts.since),
        until: parseTime(opts.until),
        timestamps: opts.timestamps,
        index,
      });
      await watchLog;
    }),
  );
}
