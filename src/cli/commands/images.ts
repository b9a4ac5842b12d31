/** `images`. */
import type { Command } from '@commander-js/extra-typings';
import type { CommandContext, ContextOf } from '../context.js';
import { imagesText } from '../render/project.js';
import { isSwarm } from '../swarm/is-swarm.js';

export function imagesCommand(program: Command, context: ContextOf) {
  return program
    .command('images')
    .description('List images used by the created containers')
    .option('-q, --quiet', 'only display IDs')
    .option('--format <format>', 'table or json', 'table')
    .argument('[services...]')
    .action(async (services, opts, cmd) => runImages(context(cmd), services, opts));
}

export async function runImages(ctx: CommandContext, services: string[], opts: { quiet?: true; format?: string }): Promise<void> {
  if (isSwarm(ctx)) return (await import('../swarm/images.js')).runSwarmImages(ctx, services, opts);
  const [{ images }, { projectOrName, withSession }] = await Promise.all([import('../../engine/images.js'), import('../session.js')]);
  const { name } = projectOrName(ctx, services);
  const rows = await withSession(ctx, (s) => images(s.engine, name, services));
  ctx.out.stdout.write(imagesText(rows, { quiet: opts.quiet, json: opts.format === 'json' }));
}
