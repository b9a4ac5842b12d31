/** `create`: `up --no-start`. */
import type { CommandContext } from '../program.js';
import { runUp, type UpCliOptions } from './up.js';

export async function runCreate(ctx: CommandContext, services: string[], opts: UpCliOptions): Promise<void> {
  await runUp(ctx, services, opts, 'create');
}
