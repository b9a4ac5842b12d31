/**
 * `stats [SERVICE…]`: docker compose's stats (docker CLI `container stats` on the project's containers): a table
 * redrawn every second until Ctrl-C, or one round with `--no-stream`; `--format table|json|TEMPLATE`, `-a`, `--no-trunc`.
 */
import type { Command } from '@commander-js/extra-typings';
import type { CommandContext, ContextOf } from '../context.js';

export function statsCommand(program: Command, context: ContextOf) {
  return program
    .command('stats')
    .description('Display a live stream of container(s) resource usage statistics')
    .option('-a, --all', 'show all containers (default shows just running)')
    .option('--no-stream', 'disable streaming stats and only pull the first result')
    .option('--no-trunc', 'do not truncate output')
    .option('--format <format>', "format output: 'table' (default), 'table TEMPLATE', 'json' or a Go TEMPLATE", 'table')
    .argument('[services...]')
    .action(async (services, opts, cmd) => runStats(context(cmd), services, opts));
}

export interface StatsCliOptions {
  all?: true;
  stream?: boolean;
  trunc?: boolean;
  format?: string;
  /** Tests: between readings. */
  intervalMs?: number;
}

export async function runStats(ctx: CommandContext, services: string[], opts: StatsCliOptions): Promise<void> {
  const [{ projectStats }, { statsText }, { Template, templateText }, { projectOrName, withSession }] = await Promise.all([
    import('../../engine/stats.js'),
    import('../render/stats.js'),
    import('../render/template.js'),
    import('../session.js'),
  ]);
  const format = opts.format ?? 'table';
  // A bad template is refused before anything is read.
  if (format !== 'json' && format !== 'table') new Template(templateText(format));
  const { name } = projectOrName(ctx, services);
  const out = ctx.out.stdout;
  const redraw = !(opts.stream === false) && (out as { isTTY?: boolean }).isTTY === true && ctx.globals.ansi !== 'never';
  try {
    await withSession(ctx, async (s) => {
      s.renderer.stop();
      let round = 0;
      for await (const rows of projectStats(s.engine, name, {
        services,
        all: opts.all,
        noStream: opts.stream === false,
        intervalMs: opts.intervalMs,
      })) {
        const text = statsText(rows, format, opts.trunc === false);
        // As docker stats: the screen cleared and the table drawn again on a terminal; rounds one after the other elsewhere.
        out.write(redraw ? `\x1b[2J\x1b[H${text}` : `${round++ > 0 && format !== 'json' ? '\n' : ''}${text}`);
      }
    });
  } catch (e) {
    if (opts.stream !== false && (e as { code?: string }).code === 'TSC_CANCELED') return;
    throw e;
  }
}
