/**
 * `scale SERVICE=REPLICAS…` (docker compose scale): those services brought to that many replicas, as `up -d --scale`
 * for them would (with `--no-deps`, without starting their dependencies). With `--runtime swarm`, the stack's
 * services get the new replica count (src/cli/swarm/commands.ts), touching no other service.
 */
import type { Command } from '@commander-js/extra-typings';
import { UsageError } from '../../errors.js';
import type { CommandContext, ContextOf } from '../context.js';
import { isSwarm } from '../swarm/is-swarm.js';
import { parseScale } from './common.js';

export function scaleCommand(program: Command, context: ContextOf) {
  return program
    .command('scale')
    .description('Scale services')
    .option('--no-deps', "don't start linked services")
    .argument('<service=replicas...>')
    .action(async (pairs, opts, cmd) => runScale(context(cmd), pairs, opts));
}

export async function runScale(ctx: CommandContext, pairs: readonly string[], opts: { deps?: boolean }): Promise<void> {
  const scale = parseScale([...pairs]);
  if (!scale) throw new UsageError('scale: name at least one SERVICE=REPLICAS');
  if (isSwarm(ctx)) return (await import('../swarm/commands.js')).runSwarmScale(ctx, scale);
  const { runUp } = await import('./up.js');
  return runUp(
    ctx,
    Object.keys(scale),
    Object.assign({ detach: true as const, scale: Object.entries(scale).map(([s, n]) => `${s}=${n}`) }, opts.deps === false ? { deps: false } : {}),
  );
}
