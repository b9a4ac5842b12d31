/** `ls`. */
import type { Command } from '@commander-js/extra-typings';
import { UsageError } from '../../errors.js';
import type { CommandContext, ContextOf } from '../context.js';
import { listFormat, lsText } from '../render/project.js';

export function lsCommand(program: Command, context: ContextOf) {
  return program
    .command('ls')
    .description('List running compose projects')
    .option('-a, --all', 'show all stopped compose projects')
    .option('-q, --quiet', 'only display project names')
    .option('--format <format>', "format the output: 'table', 'json' or a Go TEMPLATE ({{.Name}}\\t{{.Status}})", 'table')
    .option('--filter <filter>', 'filter output based on conditions provided (name=NAME)')
    .action(async (opts, cmd) => runLs(context(cmd), opts));
}

export async function runLs(ctx: CommandContext, opts: { all?: true; quiet?: true; format?: string; filter?: string }): Promise<void> {
  await checkTemplate(opts.format);
  const [{ ls }, { withSession }] = await Promise.all([import('../../engine/query.js'), import('../session.js')]);
  const { watcherStatus } = await import('../detached-watch.js');
  let rows = await withSession(ctx, async (s) =>
    // A project with a detached watcher says so in its status (`running(2), watching`).
    (await ls(s.engine, { all: opts.all })).map((r) => (watcherStatus(s.engine.runtime, r.name) ? { ...r, status: `${r.status}, watching` } : r)),
  );
  if (opts.filter) {
    const m = /^name=(.*)$/.exec(opts.filter);
    if (!m) throw new UsageError(`unsupported --filter: ${opts.filter} (name=NAME)`);
    rows = rows.filter((r) => r.name.includes(m[1]!));
  }
  ctx.out.stdout.write(lsText(rows, { quiet: opts.quiet, format: opts.format }));
}

/** A bad `--format` template is refused before anything is read. */
export async function checkTemplate(format: string | undefined): Promise<boolean> {
  if (listFormat(format) !== 'template') return false;
  const { Template, templateText } = await import('../render/template.js');
  new Template(templateText(format!));
  return true;
}
