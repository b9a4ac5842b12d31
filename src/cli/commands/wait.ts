/** `wait`. */
import type { Command } from '@commander-js/extra-typings';
import type { CommandContext, ContextOf } from '../context.js';

export function waitCommand(program: Command, context: ContextOf) {
  return program
    .command('wait')
    .description('Block until containers of all (or specified) services stop')
    .option('--down-project', 'drops project when the first container stops')
    .argument('[services...]')
    .action(async (services, opts, cmd) => runWait(context(cmd), services, opts));
}

export async function runWait(ctx: CommandContext, services: string[], opts: { downProject?: true }): Promise<void> {
  const [{ waitServices }, { projectOrName, withSession }] = await Promise.all([import('../../engine/query.js'), import('../session.js')]);
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
