/** `ps`: works with `-p NAME` and no compose file. */
import type { Command } from '@commander-js/extra-typings';
import { UsageError } from '../../errors.js';
import type { CommandContext, ContextOf } from '../context.js';
import { psText } from '../render/project.js';
import { isSwarm } from '../swarm/is-swarm.js';
import { collect } from './common.js';

export function psCommand(program: Command, context: ContextOf) {
  return program
    .command('ps')
    .description('List containers')
    .option('-a, --all', 'show all stopped containers')
    .option('-q, --quiet', 'only display IDs')
    .option('--services', 'display services')
    .option('--status <status>', 'filter services by status (repeatable)', collect)
    .option('--filter <filter>', 'filter services by a property (status=STATE)')
    .option('--format <format>', 'format the output: table or json', 'table')
    .argument('[services...]')
    .action(async (services, opts, cmd) => runPs(context(cmd), services, opts));
}

export async function runPs(
  ctx: CommandContext,
  services: string[],
  opts: { all?: true; quiet?: true; services?: true; status?: string[]; format?: string; filter?: string },
): Promise<void> {
  const format = opts.format ?? 'table';
  if (format !== 'table' && format !== 'json') throw new UsageError(`unsupported --format: ${format} (table or json)`);
  if (isSwarm(ctx)) return (await import('../swarm/commands.js')).runSwarmPs(ctx, opts);
  const [{ ps }, { projectOrName, withSession }] = await Promise.all([import('../../engine/query.js'), import('../session.js')]);
  const { name, loaded } = projectOrName(ctx, services);
  let status = opts.status;
  if (opts.filter) {
    const m = /^status=(.+)$/.exec(opts.filter);
    if (!m) throw new UsageError(`unsupported --filter: ${opts.filter} (status=STATE)`);
    status = [...(status ?? []), m[1]!];
  }
  const { watcherStatus } = await import('../detached-watch.js');
  const [rows, watcher] = await withSession(
    ctx,
    async (s) => [await ps(s.engine, name, { services, all: opts.all, status }), watcherStatus(s.engine.runtime, name)] as const,
    { dryRun: ctx.globals.dryRun === true },
  );
  const out = ctx.out.stdout;
  if (opts.services) {
    const names = loaded && rows.length === 0 && !opts.all ? [] : [...new Set(rows.map((r) => r.service))];
    for (const n of names.sort()) out.write(`${n}\n`);
    return;
  }
  if (opts.quiet) {
    for (const r of rows) out.write(`${r.id}\n`);
    return;
  }
  out.write(psText(rows, format));
  if (watcher && format === 'table') out.write(`\n${watcherLine(watcher)}\n`);
}

/** The detached watcher's line under `ps`'s table. */
export function watcherLine(w: { readonly pid: number; readonly started: string; readonly services: readonly string[] }): string {
  return `watch: running in the background (pid ${w.pid}${w.started ? `, since ${w.started}` : ''}) for ${w.services.join(', ')}`;
}
