/** `ls`. */
import { UsageError } from '../../errors.js';
import { ls } from '../../engine/query.js';
import type { CommandContext } from '../program.js';
import { table } from '../render/table.js';
import { withSession } from './common.js';

export async function runLs(ctx: CommandContext, opts: { all?: true; quiet?: true; format?: string; filter?: string }): Promise<void> {
  let rows = await withSession(ctx, (s) => ls(s.engine, { all: opts.all }));
  if (opts.filter) {
    const m = /^name=(.*)$/.exec(opts.filter);
    if (!m) throw new UsageError(`unsupported --filter: ${opts.filter} (name=NAME)`);
    rows = rows.filter((r) => r.name.includes(m[1]!));
  }
  if (opts.quiet) for (const r of rows) ctx.out.stdout.write(`${r.name}\n`);
  else if (opts.format === 'json') ctx.out.stdout.write(`${JSON.stringify(rows.map((r) => ({ Name: r.name, Status: r.status, ConfigFiles: r.configFiles })))}\n`);
  else ctx.out.stdout.write(table(['NAME', 'STATUS', 'CONFIG FILES'], rows.map((r) => [r.name, r.status, r.configFiles])));
}
