/** `events`: the project's container events; `--since`/`--until` (as docker compose: timestamps, unix seconds, durations). */
import type { Command } from '@commander-js/extra-typings';
import { UsageError } from '../../errors.js';
import type { CommandContext, ContextOf } from '../context.js';
import { eventLine } from '../render/project.js';
import { parseTime } from './logs.js';

export function eventsCommand(program: Command, context: ContextOf) {
  return program
    .command('events')
    .description('Receive real time events from containers')
    .option('--json', 'output events as a stream of json objects')
    .option('--since <time>', 'show all events created since timestamp (RFC 3339, unix seconds or a duration such as 10m)')
    .option('--until <time>', 'stream events until this timestamp')
    .argument('[services...]')
    .action(async (services, opts, cmd) => runEvents(context(cmd), services, opts));
}

/** `--since`/`--until` as unix seconds. */
export function eventTime(value: string | undefined, flag: string, now = Date.now()): number | undefined {
  let t: string | number | undefined;
  try {
    t = parseTime(value, now);
  } catch {
    throw new UsageError(`invalid ${flag} value: ${value} (RFC 3339, unix seconds or a duration such as 10m)`);
  }
  return typeof t === 'string' ? Date.parse(t) / 1000 : t;
}

export async function runEvents(ctx: CommandContext, services: string[], opts: { json?: true; since?: string; until?: string }): Promise<void> {
  const since = eventTime(opts.since, '--since');
  const until = eventTime(opts.until, '--until');
  if (since !== undefined && until !== undefined && until < since) throw new UsageError('--until is before --since');
  const [{ projectEvents }, { projectOrName, withSession }] = await Promise.all([import('../../engine/query.js'), import('../session.js')]);
  const { name } = projectOrName(ctx, services);
  try {
    await withSession(ctx, async (s) => {
      for await (const e of projectEvents(s.engine, name, services, { since, until })) ctx.out.stdout.write(eventLine(e, opts.json === true));
    });
  } catch (e) {
    if ((e as { code?: string }).code === 'TSC_CANCELED') return;
    throw e;
  }
}
