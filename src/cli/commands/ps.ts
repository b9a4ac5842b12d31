/** `ps`: works with `-p NAME` and no compose file. */
import type { Command } from '@commander-js/extra-typings';
import { UsageError } from '../../errors.js';
import type { CommandContext, ContextOf } from '../context.js';
import { psText } from '../render/project.js';
import { isSwarm } from '../swarm/is-swarm.js';
import { collect } from './common.js';
import { boolFlag, boolFlagOption } from './bool-flag.js';

export function psCommand(program: Command, context: ContextOf) {
  return program
    .command('ps')
    .description('List containers')
    .option('-a, --all', 'show all stopped containers')
    .option('-q, --quiet', 'only display IDs')
    .option('--services', 'display services')
    .option('--status <status>', 'filter services by status (repeatable)', collect)
    .option('--filter <filter>', 'filter services by a property (status=STATE)')
    .option('--format <format>', "format the output: 'table', 'table TEMPLATE', 'json' or a Go TEMPLATE ({{.Name}}\\t{{.Status}})", 'table')
    .option('--no-trunc', "don't truncate output")
    .addOption(boolFlagOption('--orphans', 'include orphaned services (not declared by project)', true))
    .argument('[services...]')
    .action(async (services, opts, cmd) => {
      const orphans = boolFlag((opts as { orphans?: unknown }).orphans, services);
      return runPs(context(cmd), services, { ...opts, orphans });
    });
}

export async function runPs(
  ctx: CommandContext,
  services: string[],
  opts: {
    all?: true;
    quiet?: true;
    services?: true;
    status?: string[];
    format?: string;
    filter?: string;
    /** `--no-trunc` → false. */
    trunc?: boolean;
    /** `--orphans=false` → false: only the services the compose file declares. */
    orphans?: boolean;
  },
): Promise<void> {
  const format = opts.format ?? 'table';
  const template = format !== 'table' && format !== 'json';
  // A bad template is refused before anything is read.
  if (template) {
    const { Template, templateText } = await import('../render/template.js');
    new Template(templateText(format));
  }
  if (isSwarm(ctx)) {
    if (template) throw new UsageError(`unsupported --format with --runtime swarm: ${format} (table or json)`);
    return (await import('../swarm/commands.js')).runSwarmPs(ctx, opts);
  }
  const [{ ps }, { projectOrName, withSession }] = await Promise.all([import('../../engine/query.js'), import('../session.js')]);
  const { name, loaded } = projectOrName(ctx, services);
  if (loaded) {
    const declared = Object.keys(loaded.project.services);
    for (const sv of services) if (!declared.includes(sv)) throw new UsageError(`no such service: ${sv}`);
    // As docker compose: without --orphans, only the services the file declares.
    if (services.length === 0 && opts.orphans === false) services = declared;
  }
  let status = opts.status;
  if (opts.filter) {
    const m = /^status=(.+)$/.exec(opts.filter);
    if (!m) throw new UsageError(`unsupported --filter: ${opts.filter} (status=STATE)`);
    status = [...(status ?? []), m[1]!];
  }
  const { watcherStatus } = await import('../detached-watch.js');
  const [rows, watcher] = await withSession(
    ctx,
    async (s) => [await ps(s.engine, name, { services, all: opts.all, status }), watcherStatus(s.engine.runtime, name)] as const,
    { dryRun: ctx.globals.dryRun === true },
  );
  const out = ctx.out.stdout;
  if (opts.services) {
    const names = loaded && rows.length === 0 && !opts.all ? [] : [...new Set(rows.map((r) => r.service))];
    for (const n of names.sort()) out.write(`${n}\n`);
    return;
  }
  if (opts.quiet) {
    for (const r of rows) out.write(`${r.id}\n`);
    return;
  }
  if (template) {
    const { psTemplateText } = await import('../render/ps-format.js');
    out.write(
      psTemplateText(
        [...rows].sort((a, b) => (a.name < b.name ? -1 : 1)),
        format,
        { noTrunc: opts.trunc === false },
      ),
    );
    return;
  }
  out.write(psText(rows, format, Date.now(), opts.trunc === false));
  if (watcher && format === 'table') out.write(`\n${watcherLine(watcher)}\n`);
}

/** The detached watcher's line under `ps`'s table. */
export function watcherLine(w: { readonly pid: number; readonly started: string; readonly services: readonly string[] }): string {
  return `watch: running in the background (pid ${w.pid}${w.started ? `, since ${w.started}` : ''}) for ${w.services.join(', ')}`;
}
