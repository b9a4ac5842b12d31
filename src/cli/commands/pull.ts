/** `pull`. */
import type { Command } from '@commander-js/extra-typings';
import { UsageError } from '../../errors.js';
import type { CommandContext, ContextOf } from '../context.js';
import { isSwarm } from '../swarm/is-swarm.js';

export function pullCommand(program: Command, context: ContextOf) {
  return program
    .command('pull')
    .description('Pull service images')
    .option('--ignore-buildable', 'ignore images that can be built')
    .option('--ignore-pull-failures', 'pull what it can and ignores images with pull failures')
    .option('--include-deps', 'also pull services declared as dependencies')
    .option('--policy <policy>', 'apply pull policy ("missing"|"always")')
    .option('-q, --quiet', 'pull without printing progress information')
    .argument('[services...]')
    .action(async (services, opts, cmd) => runPull(context(cmd), services, opts));
}

export async function runPull(
  ctx: CommandContext,
  services: string[],
  opts: { ignoreBuildable?: true; ignorePullFailures?: true; includeDeps?: true; policy?: string; quiet?: true },
): Promise<void> {
  if (opts.policy !== undefined && opts.policy !== 'missing' && opts.policy !== 'always')
    throw new UsageError(`invalid --policy: ${opts.policy} (missing or always)`);
  if (isSwarm(ctx)) return (await import('../swarm/images.js')).runSwarmPull(ctx, services, opts);
  const [{ pull }, { loadProject, withSession }] = await Promise.all([import('../../engine/images.js'), import('../session.js')]);
  const { project } = loadProject(ctx, services);
  await withSession(ctx, (s) =>
    pull(s.engine, project, {
      services,
      ignoreBuildable: opts.ignoreBuildable,
      ignorePullFailures: opts.ignorePullFailures,
      includeDeps: opts.includeDeps,
      policy: opts.policy as 'missing' | 'always' | undefined,
      quiet: opts.quiet,
    }),
  );
}
