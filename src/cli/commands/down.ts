/** `down`: works with `-p NAME` and no compose file. */
import { UsageError } from '../../errors.js';
import { down, downPlan } from '../../engine/down.js';
import type { CommandContext } from '../program.js';
import { projectOrName } from '../session.js';
import { printPlan, seconds, withSession } from './common.js';

export async function runDown(ctx: CommandContext, opts: { volumes?: true; rmi?: string; removeOrphans?: true; timeout?: string | undefined }): Promise<void> {
  if (opts.rmi !== undefined && opts.rmi !== 'local' && opts.rmi !== 'all') throw new UsageError(`invalid --rmi value: ${opts.rmi} (local or all)`);
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
  await withSession(ctx, (s) => down(s.engine, name, options));
}
