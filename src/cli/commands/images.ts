/** `images`. */
import type { Command } from '@commander-js/extra-typings';
import type { CommandContext, ContextOf } from '../context.js';
import { table } from '../render/table.js';

export function imagesCommand(program: Command, context: ContextOf) {
  return program
    .command('images')
    .description('List images used by the created containers')
    .option('-q, --quiet', 'only display IDs')
    .option('--format <format>', 'table or json', 'table')
    .argument('[services...]')
    .action(async (services, opts, cmd) => runImages(context(cmd), services, opts));
}

const human = (n: number | undefined): string => {
  if (n === undefined) return '';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)}${units[i]}`;
};

export async function runImages(ctx: CommandContext, services: string[], opts: { quiet?: true; format?: string }): Promise<void> {
  const [{ images }, { projectOrName, withSession }] = await Promise.all([import('../../engine/images.js'), import('../session.js')]);
  const { name } = projectOrName(ctx, services);
  const rows = await withSession(ctx, (s) => images(s.engine, name, services));
  if (opts.quiet) {
    for (const id of new Set(rows.map((r) => r.id))) ctx.out.stdout.write(`${id}\n`);
  } else if (opts.format === 'json') {
    ctx.out.stdout.write(`${JSON.stringify(rows.map((r) => ({ ContainerName: r.container, Repository: r.repository, Tag: r.tag, ID: r.id, Size: r.sizeBytes ?? 0 })))}\n`);
  } else {
    ctx.out.stdout.write(table(['CONTAINER', 'REPOSITORY', 'TAG', 'IMAGE ID', 'SIZE'], rows.map((r) => [r.container, r.repository, r.tag, r.id.replace(/^sha256:/, '').slice(0, 12), human(r.sizeBytes)])));
  }
}
