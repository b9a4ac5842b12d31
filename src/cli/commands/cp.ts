/** `cp SERVICE:SRC DEST` / `cp SRC SERVICE:DEST`. */
import { cp } from '../../engine/cp.js';
import { UsageError } from '../../errors.js';
import type { CommandContext } from '../program.js';
import { projectOrName } from '../session.js';
import { withSession } from './common.js';

export async function runCp(ctx: CommandContext, source: string, destination: string, opts: { all?: true; index?: string; archive?: true; followLink?: true }): Promise<void> {
  const index = opts.index === undefined ? undefined : Number(opts.index);
  if (index !== undefined && (!Number.isInteger(index) || index < 1)) throw new UsageError(`invalid --index value: ${opts.index}`);
  const { name } = projectOrName(ctx);
  await withSession(ctx, async (s) => {
    s.renderer.stop();
    await cp(s.engine, name, source, destination, { index, all: opts.all });
  });
}
