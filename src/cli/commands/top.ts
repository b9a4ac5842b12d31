/** `top`. */
import { top } from '../../engine/query.js';
import type { CommandContext } from '../program.js';
import { table } from '../render/table.js';
import { projectOrName } from '../session.js';
import { withSession } from './common.js';

export async function runTop(ctx: CommandContext, services: string[]): Promise<void> {
  const { name } = projectOrName(ctx, services);
  const list = await withSession(ctx, (s) => top(s.engine, name, services));
  for (const { name: c, processes } of list) ctx.out.stdout.write(`${c}\n${table(processes.titles, processes.processes)}\n`);
}
