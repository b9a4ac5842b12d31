/** `events`. */
import type { Command } from '@commander-js/extra-typings';
import type { CommandContext, ContextOf } from '../context.js';
import { eventLine } from '../render/project.js';

export function eventsCommand(program: Command, context: ContextOf) {
  return program
    .command('events')
    .description('Receive real time events from containers')
    .option('--json', 'output events as a stream of json objects')
    .argument('[services...]')
    .action(async (services, opts, cmd) => runEvents(context(cmd), services, opts));
}

export async function runEvents(ctx: CommandContext, services: string[], opts: { json?: true }): Promise<void> {
  const [{ projectEvents }, { projectOrName, withSession }] = await Promise.all([import('../../engine/query.js'), import('../session.js')]);
  const { name } = projectOrName(ctx, services);
  try {
    await withSession(ctx, async (s) => {
      for await (const e of projectEvents(s.engine, name, services)) ctx.out.stdout.write(eventLine(e, opts.json === true));
    });
  } catch (e) {
    if ((e as { code?: string }).code === 'TSC_CANCELED') return;
    throw e;
  }
}
