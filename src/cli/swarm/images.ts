/**
 * The image commands with `--runtime swarm` (src/swarm/images.ts), all on the manager's Docker Engine (DOCKER_HOST):
 * - `build`: builds the services with `build:` through the project's build path, then pushes each to the registry its
 *   `image:` names (a swarm's nodes pull from there) and reports the digest the stack will be pinned to;
 * - `push`: pushes the built services' images and reports their digests;
 * - `pull`: pulls the services' images into the manager's engine only: each node pulls what its tasks run when they
 *   are deployed (by digest for the built services), so this warms the manager (a single-node swarm, or a build
 *   `FROM` them) and checks that the registry serves them;
 * - `images`: the images the stack's services run, as deployed (pinned ones with their digest).
 */
import { LABEL_NAMESPACE } from '../../swarm/convert-names.js';
import type { CommandContext } from '../context.js';
import { stackImageRows, stackImagesText } from '../render/swarm.js';
import { withSwarm } from './session.js';

function buildArgs(list: readonly string[] | undefined): Record<string, string> | undefined {
  const args: Record<string, string> = {};
  for (const a of list ?? []) {
    const i = a.indexOf('=');
    if (i < 0) {
      const v = process.env[a];
      if (v !== undefined) args[a] = v;
    } else args[a.slice(0, i)] = a.slice(i + 1);
  }
  return Object.keys(args).length > 0 ? args : undefined;
}

export async function runSwarmBuild(
  ctx: CommandContext,
  services: readonly string[],
  opts: { noCache?: true; pull?: true; buildArg?: string[]; withDependencies?: true; quiet?: true },
): Promise<void> {
  const [{ loadProject }, images] = await Promise.all([import('../session.js'), import('../../swarm/images.js')]);
  const { project } = loadProject(ctx, services);
  const list = images.builtServices(project, services, opts.withDependencies === true);
  images.requirePushable(project, list);
  if (ctx.globals.dryRun) {
    ctx.out.stdout.write(list.map((k) => `DRY-RUN MODE - build and push ${project.services[k]!.image!} (service ${k})\n`).join(''));
    return;
  }
  if (list.length === 0) {
    ctx.out.warn('no service to build');
    return;
  }
  await withSwarm(ctx, async (s) =>
    images.buildForSwarm(await s.engine(), project, {
      services: list,
      noCache: opts.noCache,
      pull: opts.pull,
      args: buildArgs(opts.buildArg),
      quiet: opts.quiet,
    }),
  );
}

export async function runSwarmPush(
  ctx: CommandContext,
  services: readonly string[],
  opts: { ignorePushFailures?: true; includeDeps?: true; quiet?: true },
): Promise<void> {
  const [{ loadProject }, images] = await Promise.all([import('../session.js'), import('../../swarm/images.js')]);
  const { project } = loadProject(ctx, services);
  const list = images.builtServices(project, services, opts.includeDeps === true);
  images.requirePushable(project, list);
  if (ctx.globals.dryRun || list.length === 0) return;
  await withSwarm(ctx, async (s) =>
    images.pushPinned(await s.engine(), project, list, { ignorePushFailures: opts.ignorePushFailures, quiet: opts.quiet }),
  );
}

export async function runSwarmPull(
  ctx: CommandContext,
  services: string[],
  opts: { ignoreBuildable?: true; ignorePullFailures?: true; includeDeps?: true; policy?: string; quiet?: true },
): Promise<void> {
  const [{ pull }, { loadProject }] = await Promise.all([import('../../engine/images.js'), import('../session.js')]);
  const { project } = loadProject(ctx, services);
  if (ctx.globals.dryRun) return;
  // Into the manager's engine only: the nodes pull what their tasks run at deploy time (see the header).
  await withSwarm(ctx, async (s) =>
    pull(await s.engine(), project, {
      services,
      ignoreBuildable: opts.ignoreBuildable,
      ignorePullFailures: opts.ignorePullFailures,
      includeDeps: opts.includeDeps,
      policy: opts.policy as 'missing' | 'always' | undefined,
      quiet: opts.quiet,
    }),
  );
}

export async function runSwarmImages(ctx: CommandContext, services: readonly string[], opts: { quiet?: true; format?: string }): Promise<void> {
  const { projectOrName } = await import('../session.js');
  const { name } = projectOrName(ctx, services);
  const rows = await withSwarm(ctx, async (s) =>
    stackImageRows(name, await s.api.listServices({ labels: { [LABEL_NAMESPACE]: name }, signal: s.signal }), services),
  );
  ctx.out.stdout.write(stackImagesText(rows, { quiet: opts.quiet, json: opts.format === 'json' }));
}
