/**
 * `check [--repair] [--format table|json]`: checks the runtime's own store and state (native: the image store's
 * blobs and layers, container records and names, networks, volumes, build scratch; Docker: nothing of tscompose's),
 * repairing with `--repair` what can be repaired without losing data. Exit 0 when no problem is left unrepaired,
 * else TSC_STATE_CHECK. No compose file needed.
 */
import type { Command } from '@commander-js/extra-typings';
import { TsComposeError, UsageError } from '../../errors.js';
import type { CommandContext, ContextOf } from '../context.js';
import { checkText } from '../render/check.js';

export function checkCommand(program: Command, context: ContextOf) {
  return program
    .command('check')
    .description("Check the runtime's own store and state (images, containers, networks, volumes, build scratch)")
    .option('--repair', 'repair what can be repaired without losing data (leftovers, stale claims, leaked endpoints, …)')
    .option('--format <format>', 'table or json', 'table')
    .action(async (opts, cmd) => runCheck(context(cmd), opts));
}

export async function runCheck(ctx: CommandContext, opts: { repair?: true; format?: string }): Promise<void> {
  const format = opts.format ?? 'table';
  if (format !== 'table' && format !== 'json') throw new UsageError(`unsupported --format: ${format} (table or json)`);
  const { withSession } = await import('../session.js');
  // --dry-run: look only
  const repair = opts.repair === true && ctx.globals.dryRun !== true;
  const { runtime, report } = await withSession(
    ctx,
    async (s) => ({ runtime: s.engine.runtime.kind, report: await s.engine.runtime.checkState({ repair, signal: s.engine.signal }) }),
    { dryRun: false },
  );
  ctx.out.stdout.write(checkText(report, { json: format === 'json', runtime, repair }));
  const left = report.problems.filter((p) => !p.repaired);
  if (left.length === 0) return;
  const repairable = !repair && left.some((p) => p.repair !== undefined);
  throw new TsComposeError('TSC_STATE_CHECK', `the ${runtime} runtime's state has ${left.length} problem${left.length === 1 ? '' : 's'} left`, {
    hint: repairable
      ? 'run `tscompose check --repair`'
      : 'what --repair cannot do safely is left to you: see the PROBLEM column (pull or build broken images again, recreate containers)',
  });
}
