/** `builder prune [-a] [-f]`: removes the build cache, as `docker builder prune` (asks first unless `-f`). */
import type { Command } from '@commander-js/extra-typings';
import { TsComposeError, UsageError } from '../../errors.js';
import type { ContextOf } from '../context.js';
import { confirm } from '../prompt.js';
import { humanSize } from '../render/images.js';
import { withImageIO, type ImageIO } from './image/io.js';

export function builderCommand(program: Command, context: ContextOf) {
  const builder = program.command('builder').description('Manage the build cache (no compose file needed)');
  builder
    .command('prune')
    .description('Remove the build cache')
    .option('-a, --all', 'also empty the cache mounts (RUN --mount=type=cache)')
    .option('-f, --force', 'do not prompt for confirmation')
    .action(async (opts, cmd) => withImageIO(context(cmd), 'prune', true, (io) => builderPrune(io, opts)));
  return builder;
}

export async function builderPrune(io: ImageIO, opts: { all?: boolean | undefined; force?: boolean | undefined } = {}): Promise<void> {
  if (!opts.force && !io.stdin.isTTY) {
    throw new UsageError('builder prune asks for confirmation, but stdin is not a terminal', { hint: 'pass -f (--force) to prune without a prompt' });
  }
  const engine = await io.session();
  if (!opts.force) {
    const question = 'WARNING! This will remove all build cache.\nAre you sure you want to continue? [y/N] ';
    if (!(await confirm(question, { input: io.stdin, output: io.stderr }, { signal: engine.signal, terminal: false }))) {
      throw new TsComposeError('TSC_PRUNE_CANCELED', 'builder prune has been cancelled');
    }
  }
  const r = await engine.runtime.pruneBuildCache({ signal: engine.signal, all: opts.all === true });
  io.stdout.write(`Deleted build cache entries: ${r.deleted}\nTotal reclaimed space: ${humanSize(r.reclaimedBytes)}\n`);
}
