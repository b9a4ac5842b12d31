/** `rm` (works with `-p NAME` and no compose file). */
import type { CommandContext } from '../program.js';
import { runLifecycle, type LifecycleCliOptions } from './lifecycle.js';

export async function runRm(ctx: CommandContext, services: string[], opts: LifecycleCliOptions): Promise<void> {
  await runLifecycle(ctx, 'rm', services, opts);
}
