/**
 * `watch`: docker compose's `watch` (`cmd/compose/watch.go`): builds and starts the services (unless `--no-up`),
 * then applies `develop.watch` until Ctrl-C. `--detached-child` (hidden) is the detached watcher that `up -d --watch`
 * starts (../detached-watch.ts): it logs to its file with timestamps and leaves at once when another one runs.
 */
import type { Command } from '@commander-js/extra-typings';
import { Option } from '@commander-js/extra-typings';
import type { CommandContext, ContextOf } from '../context.js';
import type { LoadedProject } from '../../project/types.js';
import { watchUntilStopped } from '../watching.js';

export function watchCommand(program: Command, context: ContextOf) {
  return program
    .command('watch')
    .description('Watch build context for service and rebuild/refresh containers when files are updated')
    .option('--no-up', 'do not build & start services before watching')
    .option('--prune', 'prune dangling images on rebuild')
    .option('--quiet', 'hide build output')
    .addOption(new Option('--detached-child', 'run as the detached watcher of `up -d --watch`').hideHelp())
    .argument('[services...]', 'services to watch')
    .action(async (services, opts, cmd) => runWatch(context(cmd), services, opts));
}

export interface WatchCliOptions {
  /** `--no-up` → false. */
  up?: boolean;
  prune?: true;
  quiet?: true;
  detachedChild?: true;
}

export async function runWatch(ctx: CommandContext, services: string[], opts: WatchCliOptions): Promise<void> {
  const [{ loadProject, withSession }, { watchedServices }] = await Promise.all([import('../session.js'), import('../../engine/watch/watch.js')]);
  const loaded = loadProject(ctx, services);
  const watched = watchedServices(loaded.project, services);
  if (opts.detachedChild) return runDetachedChild(ctx, loaded, watched, opts);
  if (opts.up !== false) {
    const { runUp } = await import('./up.js');
    await runUp(ctx, services, { detach: true, ...(opts.quiet ? { quietPull: true as const } : {}) });
  }
  const out = ctx.out.stdout;
  await withSession(ctx, async (s) => {
    if (opts.quiet) s.renderer.stop();
    await watchUntilStopped(s, loaded, watched, { prune: opts.prune, log: (line) => out.write(`${line}\n`) });
  });
}

async function runDetachedChild(ctx: CommandContext, loaded: LoadedProject, watched: readonly string[], opts: WatchCliOptions): Promise<void> {
  const [{ withSession }, { asDetachedWatcher, watchKey }] = await Promise.all([import('../session.js'), import('../detached-watch.js')]);
  const log = (line: string): void => void ctx.out.stdout.write(`${new Date().toISOString()} ${line}\n`);
  await withSession(ctx, async (s) => {
    const ran = await asDetachedWatcher(s.engine.runtime, loaded.project.name, watched, watchKey(loaded.project, watched), async () => {
      log(`watcher started (pid ${process.pid})`);
      await watchUntilStopped(s, loaded, watched, { prune: opts.prune, log });
      log('watcher stopped');
    });
    if (!ran) log('another watcher runs for this project: leaving');
  });
}
