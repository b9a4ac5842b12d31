/** `down`: works with `-p NAME` and no compose file. */
import type { Command } from '@commander-js/extra-typings';
import { UsageError } from '../../errors.js';
import type { CommandContext, ContextOf } from '../context.js';
import { isSwarm } from '../swarm/is-swarm.js';
import { printPlan, seconds, timeoutOption } from './common.js';

export function downCommand(program: Command, context: ContextOf) {
  return program
    .command('down')
    .description('Stop and remove containers, networks')
    .option('-v, --volumes', 'remove named volumes declared in the "volumes" section and anonymous volumes attached to containers')
    .option('--rmi <type>', 'remove images used by services: "local" (no custom tag) or "all"')
    .option('--remove-orphans', 'remove containers for services not defined in the compose file')
    .addOption(timeoutOption())
    .action(async (opts, cmd) => runDown(context(cmd), opts));
}

export async function runDown(
  ctx: CommandContext,
  opts: { volumes?: true; rmi?: string; removeOrphans?: true; timeout?: string | undefined },
): Promise<void> {
  if (opts.rmi !== undefined && opts.rmi !== 'local' && opts.rmi !== 'all') throw new UsageError(`invalid --rmi value: ${opts.rmi} (local or all)`);
  if (isSwarm(ctx)) return (await import('../swarm/commands.js')).runSwarmDown(ctx, opts);
  const [{ down, downPlan }, { projectOrName, withSession }] = await Promise.all([import('../../engine/down.js'), import('../session.js')]);
  const { name, loaded } = projectOrName(ctx);
  const options = {
    project: loaded?.project,
    volumes: opts.volumes,
    rmi: opts.rmi as 'local' | 'all' | undefined,
    removeOrphans: opts.removeOrphans,
    timeoutSeconds: seconds(opts.timeout),
    disabledServices: loaded ? Object.keys(loaded.meta.disabledServices) : undefined,
  };
  if (ctx.globals.dryRun) {
    await withSession(ctx, async (s) => printPlan(ctx, (await downPlan(s.engine, name, options)).plan), { dryRun: true });
    return;
  }
  await withSession(ctx, async (s) => {
    // The project's detached watcher (`up -d --watch`) goes first: it would otherwise sync into, or rebuild, what goes.
    const { removeWatcherFiles, stopDetachedWatcher } = await import('../detached-watch.js');
    const stopped = await stopDetachedWatcher(s.engine.runtime, name);
    if (stopped !== undefined) s.engine.events.emit({ resource: 'Watch', status: 'done', text: `Stopped (pid ${stopped})` });
    await down(s.engine, name, options);
    await removeWatcherFiles(s.engine.runtime, name);
  });
}
