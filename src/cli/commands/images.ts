/** `images`. */
import type { Command } from '@commander-js/extra-typings';
import { UsageError } from '../../errors.js';
import type { CommandContext, ContextOf } from '../context.js';
import { imagesText } from '../render/project.js';
import { isSwarm } from '../swarm/is-swarm.js';
import { checkTemplate } from './ls.js';

export function imagesCommand(program: Command, context: ContextOf) {
  return program
    .command('images')
    .description('List images used by the created containers')
    .option('-q, --quiet', 'only display IDs')
    .option('--format <format>', "format the output: 'table', 'json' or a Go TEMPLATE ({{.Repository}}:{{.Tag}})", 'table')
    .argument('[services...]')
    .action(async (services, opts, cmd) => runImages(context(cmd), services, opts));
}

export async function runImages(ctx: CommandContext, services: string[], opts: { quiet?: true; format?: string }): Promise<void> {
  if (await checkTemplate(opts.format)) {
    if (isSwarm(ctx)) throw new UsageError(`unsupported --format with --runtime swarm: ${opts.format!} (table or json)`);
  }
  if (isSwarm(ctx)) return (await import('../swarm/images.js')).runSwarmImages(ctx, services, opts);
  const [{ images }, { projectOrName, withSession }] = await Promise.all([import('../../engine/images.js'), import('../session.js')]);
  const { name } = projectOrName(ctx, services);
  const rows = await withSession(ctx, (s) => images(s.engine, name, services));
  ctx.out.stdout.write(imagesText(rows, { quiet: opts.quiet, format: opts.format }));
}
