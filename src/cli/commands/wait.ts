/** `wait`. */
import { waitServices } from '../../engine/query.js';
import type { CommandContext } from '../program.js';
import { projectOrName } from '../session.js';
import { withSession } from './common.js';

export async function runWait(ctx: CommandContext, services: string[], opts: { downProject?: true }): Promise<void> {
  const { name, loaded } = projectOrName(ctx, services);
  const code = await withSession(ctx, async (s) => {
    const c = await waitServices(s.engine, name, services);
    if (opts.downProject) {
      const { down } = await import('../../engine/down.js');
      await down(s.engine, name, { project: loaded?.project });
    }
    return c;
  });
  ctx.out.stdout.write(`${code}\n`);
  process.exitCode = code;
}
