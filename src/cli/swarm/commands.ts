/**
 * The swarm forms of `up`, `down`, `ps` and `scale` (`--runtime swarm`): the project deployed as a stack
 * (src/swarm/stack/stack.ts), removed, its tasks listed, or some of its services deployed again with other replica
 * counts. `up --build` builds and pushes the images first and deploys them pinned by digest (src/swarm/images.ts).
 * `--dry-run` prints the stack plan.
 */
import { UsageError } from '../../errors.js';
import { LABEL_NAMESPACE } from '../../swarm/convert-names.js';
import type { CommandContext } from '../context.js';
import { stackPsRows, stackPsText } from '../render/swarm.js';
import { parseScale, seconds } from '../commands/common.js';
import { withSwarm } from './session.js';

export interface SwarmUpOptions {
  readonly detach?: true | undefined;
  readonly wait?: true | undefined;
  readonly waitTimeout?: string | undefined;
  readonly removeOrphans?: true | undefined;
  readonly scale?: string[] | undefined;
  readonly build?: boolean | undefined;
}

function dryRunText(plan: { toString(): string; empty: boolean }): string {
  return plan.empty ? 'DRY-RUN MODE - nothing to do\n' : `DRY-RUN MODE - plan:\n${plan.toString()}`;
}

export async function runSwarmUp(ctx: CommandContext, services: readonly string[], opts: SwarmUpOptions): Promise<void> {
  if (services.length > 0) throw new UsageError('--runtime swarm deploys the whole stack: no service names');
  if (!opts.detach && !opts.wait) throw new UsageError('--runtime swarm runs detached: use up -d (or --wait)');
  const [{ loadProject }, { stackUp }, images] = await Promise.all([
    import('../session.js'),
    import('../../swarm/stack/stack.js'),
    import('../../swarm/images.js'),
  ]);
  const { project } = loadProject(ctx);
  const scale = parseScale(opts.scale);
  const dryRun = ctx.globals.dryRun === true;
  const toBuild = opts.build === true ? images.builtServices(project) : [];
  images.requirePushable(project, toBuild);
  const result = await withSwarm(ctx, async (s) => {
    // --build: built and pushed before anything is deployed; the plan then runs the new digests.
    const pinnedImages = toBuild.length > 0 && !dryRun ? await images.buildForSwarm(await s.engine(), project, { services: toBuild }) : {};
    return stackUp(s, project, {
      removeOrphans: opts.removeOrphans,
      wait: opts.wait,
      waitTimeoutSeconds: seconds(opts.waitTimeout, '--wait-timeout'),
      ...(scale ? { scale } : {}),
      pinnedImages,
      registry: s.registry,
      dryRun,
    });
  });
  if (dryRun) {
    // The plan is the one of the images the registry has now: what the builds change shows at the real run.
    const builds = toBuild.map((k) => `image ${project.services[k]!.image!}, BuildAndPush (service ${k})\n`).join('');
    ctx.out.stdout.write(builds ? `DRY-RUN MODE - plan:\n${builds}${result.plan.toString()}` : dryRunText(result.plan));
  }
}

/**
 * `scale SERVICE=N…`: those services deployed again with N replicas (as `up --scale` would, touching no other
 * service); a later `up` without --scale goes back to the compose file's count, as docker compose's does.
 */
export async function runSwarmScale(
  ctx: CommandContext,
  scale: Readonly<Record<string, number>>,
  opts: { readonly wait?: boolean | undefined } = {},
): Promise<void> {
  const [{ loadProject }, { stackUp }] = await Promise.all([import('../session.js'), import('../../swarm/stack/stack.js')]);
  const { project } = loadProject(ctx);
  const result = await withSwarm(ctx, (s) =>
    stackUp(s, project, { scale, services: Object.keys(scale), registry: s.registry, wait: opts.wait, dryRun: ctx.globals.dryRun === true }),
  );
  if (ctx.globals.dryRun) ctx.out.stdout.write(dryRunText(result.plan));
}

export async function runSwarmDown(ctx: CommandContext, opts: { readonly volumes?: true | undefined }): Promise<void> {
  const [{ projectOrName }, { stackDown }] = await Promise.all([import('../session.js'), import('../../swarm/stack/stack.js')]);
  const { name } = projectOrName(ctx);
  if (opts.volumes) ctx.out.warn("--volumes: the stack's named volumes live on each node that ran a task; remove them there (docker volume rm)");
  const plan = await withSwarm(ctx, (s) => stackDown(s, name, { dryRun: ctx.globals.dryRun === true }));
  if (ctx.globals.dryRun) ctx.out.stdout.write(dryRunText(plan));
}

export async function runSwarmPs(
  ctx: CommandContext,
  opts: { readonly all?: true | undefined; readonly quiet?: true | undefined; readonly format?: string | undefined },
): Promise<void> {
  const { projectOrName } = await import('../session.js');
  const { name } = projectOrName(ctx);
  const rows = await withSwarm(ctx, async (s) => {
    const labels = { [LABEL_NAMESPACE]: name };
    const services = await s.api.listServices({ labels, signal: s.signal });
    const [tasks, nodes] = await Promise.all([s.api.listTasks({ signal: s.signal }), s.api.listNodes({ signal: s.signal })]);
    return stackPsRows(name, services, tasks, nodes, opts.all === true);
  });
  ctx.out.stdout.write(stackPsText(rows, { json: opts.format === 'json', quiet: opts.quiet }));
}
