/** `push`. */
import type { Command } from '@commander-js/extra-typings';
import type { CommandContext, ContextOf } from '../context.js';
import { isSwarm } from '../swarm/is-swarm.js';

export function pushCommand(program: Command, context: ContextOf) {
  return program
    .command('push')
    .description('Push service images')
    .option('--ignore-push-failures', 'push what it can and ignores images with push failures')
    .option('--include-deps', 'also push images of services declared as dependencies')
    .option('-q, --quiet', 'push without printing progress information')
    .argument('[services...]')
    .action(async (services, opts, cmd) => runPush(context(cmd), services, opts));
}

export async function runPush(
  ctx: CommandContext,
  services: string[],
  opts: { ignorePushFailures?: true; includeDeps?: true; quiet?: true },
): Promise<void> {
  if (isSwarm(ctx)) return (await import('../swarm/images.js')).runSwarmPush(ctx, services, opts);
  const [{ push }, { loadProject, withSession }] = await Promise.all([import('../../engine/images.js'), import('../session.js')]);
  const { project } = loadProject(ctx, services);
  await withSession(ctx, (s) =>
    push(s.engine, project, { services, ignorePushFailures: opts.ignorePushFailures, includeDeps: opts.includeDeps, quiet: opts.quiet }),
  );
}
