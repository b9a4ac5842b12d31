/**
 * `logs` with `--runtime swarm`: the stack's services' output through the manager (src/swarm/stack/logs.ts), printed
 * as docker compose prints containers' (`app-1  | line`, src/cli/render/log-consumer.ts). `-f`, `--tail`,
 * `--timestamps`, `--index`, `--no-color`, `--no-log-prefix` and service names as for containers; `--since` and
 * `--until` are refused (the swarm form does not take them yet).
 */
import { UsageError } from '../../errors.js';
import type { CommandContext } from '../context.js';
import { followUntilCanceled, logPrinterFor } from '../log-printing.js';
import { withSwarm } from './session.js';

export interface SwarmLogsOptions {
  readonly follow?: true | undefined;
  readonly tail?: number | undefined;
  readonly timestamps?: true | undefined;
  readonly since?: string | undefined;
  readonly until?: string | undefined;
  readonly color?: boolean | undefined;
  readonly logPrefix?: boolean | undefined;
  readonly index?: number | undefined;
}

export async function runSwarmLogs(ctx: CommandContext, services: readonly string[], opts: SwarmLogsOptions): Promise<void> {
  if (opts.since !== undefined || opts.until !== undefined) throw new UsageError('--since and --until are not available with --runtime swarm');
  const [{ projectOrName }, { stackLogs }] = await Promise.all([import('../session.js'), import('../../swarm/stack/logs.js')]);
  const { name } = projectOrName(ctx, services);
  const printer = logPrinterFor(ctx, opts);
  await followUntilCanceled(opts.follow === true, () =>
    withSwarm(ctx, (s) =>
      stackLogs(s.api, name, printer, {
        services,
        follow: opts.follow === true,
        tail: opts.tail,
        timestamps: opts.timestamps === true,
        index: opts.index,
        signal: s.signal,
      }),
    ),
  );
}
