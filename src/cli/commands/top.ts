/** `top`. */
import type { Command } from '@commander-js/extra-typings';
import type { CommandContext, ContextOf } from '../context.js';
import { topText } from '../render/project.js';

export function topCommand(program: Command, context: ContextOf) {
  return program
    .command('top')
    .description('Display the running processes')
    .argument('[services...]')
    .action(async (services, _opts, cmd) => runTop(context(cmd), services));
}

export async function runTop(ctx: CommandContext, services: string[]): Promise<void> {
  const [{ top }, { projectOrName, withSession }] = await Promise.all([import('../../engine/query.js'), import('../session.js')]);
  const { name } = projectOrName(ctx, services);
  const list = await withSession(ctx, (s) => top(s.engine, name, services));
  ctx.out.stdout.write(topText(list));
}
