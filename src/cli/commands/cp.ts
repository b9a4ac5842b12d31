/** `cp SERVICE:SRC DEST` / `cp SRC SERVICE:DEST`. */
import type { Command } from '@commander-js/extra-typings';
import type { CommandContext, ContextOf } from '../context.js';
import { replicaIndex } from './common.js';

export function cpCommand(program: Command, context: ContextOf) {
  return program
    .command('cp')
    .description('Copy files/folders between a service container and the local filesystem')
    .option('--all', 'include containers created by the run command')
    .option('-a, --archive', 'archive mode (copy all uid/gid information)')
    .option('-L, --follow-link', 'always follow symbol link in SRC_PATH')
    .option('--index <n>', 'index of the container if service has multiple replicas')
    .argument('<source>', 'SERVICE:SRC_PATH or a local path')
    .argument('<destination>', 'SERVICE:DEST_PATH or a local path')
    .action(async (source, destination, opts, cmd) => runCp(context(cmd), source, destination, opts));
}

export async function runCp(
  ctx: CommandContext,
  source: string,
  destination: string,
  opts: { all?: true; index?: string; archive?: true; followLink?: true },
): Promise<void> {
  const index = replicaIndex(opts.index);
  const [{ cp }, { projectOrName, withSession }] = await Promise.all([import('../../engine/cp.js'), import('../session.js')]);
  const { name } = projectOrName(ctx);
  await withSession(ctx, async (s) => {
    s.renderer.stop();
    await cp(s.engine, name, source, destination, { index, all: opts.all });
  });
}
