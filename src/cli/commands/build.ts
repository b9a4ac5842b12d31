/** `build`. */
import type { Command } from '@commander-js/extra-typings';
import type { CommandContext, ContextOf } from '../context.js';
import { collect } from './common.js';
import { isSwarm } from '../swarm/is-swarm.js';

export function buildCommand(program: Command, context: ContextOf) {
  return program
    .command('build')
    .description('Build or rebuild services')
    .option('--build-arg <KEY=VAL>', 'set build-time variables for services (repeatable)', collect)
    .option('--no-cache', 'do not use cache when building the image')
    .option('--pull', 'always attempt to pull a newer version of the image')
    .option('--with-dependencies', 'also build dependencies (transitively)')
    .option('-q, --quiet', "don't print anything to stdout")
    .argument('[services...]')
    .action(async (services, opts, cmd) =>
      runBuild(context(cmd), services, { ...opts, ...(opts.cache === false ? { noCache: true as const } : {}) }),
    );
}

export async function runBuild(
  ctx: CommandContext,
  services: string[],
  opts: { noCache?: true; pull?: true; buildArg?: string[]; withDependencies?: true; quiet?: true },
): Promise<void> {
  if (isSwarm(ctx)) return (await import('../swarm/images.js')).runSwarmBuild(ctx, services, opts);
  const [{ build }, { loadProject, withSession }] = await Promise.all([import('../../engine/images.js'), import('../session.js')]);
  const { project } = loadProject(ctx, services);
  const args: Record<string, string> = {};
  for (const a of opts.buildArg ?? []) {
    const i = a.indexOf('=');
    if (i < 0) {
      const v = process.env[a];
      if (v !== undefined) args[a] = v;
    } else args[a.slice(0, i)] = a.slice(i + 1);
  }
  await withSession(ctx, (s) =>
    build(s.engine, project, {
      services,
      noCache: opts.noCache,
      pull: opts.pull,
      args: Object.keys(args).length > 0 ? args : undefined,
      withDeps: opts.withDependencies,
    }),
  );
}
