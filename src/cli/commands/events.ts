/** `events`. */
import type { Command } from '@commander-js/extra-typings';
import type { CommandContext, ContextOf } from '../context.js';

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
      for await (const e of projectEvents(s.engine, name, services)) {
        const time = new Date(e.time).toISOString();
        if (opts.json) ctx.out.stdout.write(`${JSON.stringify({ time, type: e.type, action: e.action, id: e.id, service: e.service, attributes: e.attributes })}\n`);
        else {
          const attrs = Object.entries(e.attributes).filter(([k]) => !k.startsWith('com.docker.compose.')).map(([k, v]) => `${k}=${v}`).join(', ');
          ctx.out.stdout.write(`${time} ${e.type} ${e.action} ${e.id}${attrs ? ` (${attrs})` : ''}\n`);
        }
      }
    });
  } catch (e) {
    if ((e as { code?: string }).code === 'TSC_CANCELED') return;
    throw e;
  }
}
