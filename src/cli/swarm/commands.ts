/**
 * The swarm forms of `up`, `down` and `ps` (`--runtime swarm`): the project deployed as a stack
 * (src/swarm/stack/stack.ts), removed, or its tasks listed. `--dry-run` prints the stack plan.
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
  if (opts.build === true) throw new UsageError('--build is not available with --runtime swarm yet: build and push the images first');
  const [{ loadProject }, { stackUp }] = await Promise.all([import('../session.js'), import('../../swarm/stack/stack.js')]);
  const { project } = loadProject(ctx);
  const scale = parseScale(opts.scale);
  const result = await withSwarm(ctx, (s) =>
    stackUp(s, project, {
      removeOrphans: opts.removeOrphans,
      wait: opts.wait,
      waitTimeoutSeconds: seconds(opts.waitTimeout, '--wait-timeout'),
      ...(scale ? { scale } : {}),
      dryRun: ctx.globals.dryRun === true,
    }),
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
