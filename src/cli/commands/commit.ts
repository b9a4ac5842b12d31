/**
 * `commit SERVICE [REPOSITORY[:TAG]]`: an image of a service container's changes (docker compose
 * cmd/compose/commit.go: `-a`, `-c` (repeatable), `-m`, `-p`/`--pause` (default true; `--pause=false` or
 * `--no-pause` turns it off), `--index`).
 */
import { Option, type Command } from '@commander-js/extra-typings';
import { UsageError } from '../../errors.js';
import type { CommandContext, ContextOf } from '../context.js';
import { collect, replicaIndex } from './common.js';

export function commitCommand(program: Command, context: ContextOf) {
  return program
    .command('commit')
    .description("Create a new image from a service container's changes")
    .option('-a, --author <author>', 'author (e.g., "John Hannibal Smith <hannibal@a-team.com>")')
    .option('-c, --change <instruction>', 'apply Dockerfile instruction to the created image (repeatable)', collect)
    .option('--index <n>', 'index of the container if service has multiple replicas')
    .option('-m, --message <message>', 'commit message')
    .addOption(new Option('-p', 'pause container during commit (the default)'))
    .addOption(new Option('--pause <bool>', 'pause container during commit: true (default) or false'))
    .option('--no-pause', 'do not pause the container during commit')
    .argument('<service>')
    .argument('[repository]', 'REPOSITORY[:TAG] to give the image')
    .action(async (service, repository, opts, cmd) => runCommit(context(cmd), service, repository, opts));
}

/** `--pause=true|false` (cobra's bool flag values; `--no-pause` gives `false`), default true. */
export function pauseValue(value: string | boolean | undefined): boolean {
  if (value === undefined || value === true) return true;
  if (value === false) return false;
  const v = value.toLowerCase();
  if (['true', '1', 't'].includes(v)) return true;
  if (['false', '0', 'f'].includes(v)) return false;
  throw new UsageError(`invalid argument "${value}" for "-p, --pause" flag: expected a boolean`);
}

export async function runCommit(
  ctx: CommandContext,
  service: string,
  repository: string | undefined,
  opts: { author?: string; change?: string[]; index?: string; message?: string; pause?: string | boolean; p?: true },
): Promise<void> {
  const index = replicaIndex(opts.index);
  const pause = pauseValue(opts.pause);
  const [{ commitService }, { projectOrName, withSession }] = await Promise.all([import('../../engine/export-commit.js'), import('../session.js')]);
  const { name } = projectOrName(ctx);
  await withSession(ctx, (s) =>
    commitService(s.engine, name, service, {
      index,
      reference: repository,
      author: opts.author,
      message: opts.message,
      changes: opts.change,
      pause,
      dryRun: ctx.globals.dryRun === true,
    }),
  );
}
