/** `export SERVICE [-o FILE]`: the service container's filesystem as a tar (docker compose cmd/compose/export.go). */
import type { Command } from '@commander-js/extra-typings';
import { UsageError } from '../../errors.js';
import type { CommandContext, ContextOf } from '../context.js';
import { replicaIndex } from './common.js';

export function exportCommand(program: Command, context: ContextOf) {
  return program
    .command('export')
    .description("Export a service container's filesystem as a tar archive")
    .option('--index <n>', 'index of the container if service has multiple replicas')
    .option('-o, --output <file>', 'write to a file, instead of STDOUT')
    .argument('<service>')
    .action(async (service, opts, cmd) => runExport(context(cmd), service, opts));
}

export async function runExport(ctx: CommandContext, service: string, opts: { index?: string; output?: string }): Promise<void> {
  const index = replicaIndex(opts.index);
  if (opts.output === undefined && (ctx.out.stdout as { isTTY?: boolean }).isTTY === true)
    throw new UsageError('output option is required when exporting to terminal');
  const [{ exportService }, { projectOrName, withSession }] = await Promise.all([import('../../engine/export-commit.js'), import('../session.js')]);
  const { name } = projectOrName(ctx);
  await withSession(ctx, (s) =>
    exportService(s.engine, name, service, {
      index,
      output: opts.output,
      stdout: ctx.out.stdout as NodeJS.WritableStream as import('node:stream').Writable,
      dryRun: ctx.globals.dryRun === true,
    }),
  );
}
