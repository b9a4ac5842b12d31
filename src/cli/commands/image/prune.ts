/** `image prune [-a] [-f]`: asks first (a terminal is needed for that) unless `-f`. */
import type { Command } from '@commander-js/extra-typings';
import { TsComposeError, UsageError } from '../../../errors.js';
import type { ContextOf } from '../../context.js';
import { confirm } from '../../prompt.js';
import { withImageIO, type ImageIO } from './io.js';

export function imagePruneCommand(image: Command, context: ContextOf) {
  return image
    .command('prune')
    .description('Remove unused images')
    .option('-a, --all', 'remove all unused images, not just dangling ones')
    .option('-f, --force', 'do not prompt for confirmation')
    .action(async (opts, cmd) => withImageIO(context(cmd), 'prune', true, (io) => imagePrune(io, opts)));
}

export async function imagePrune(io: ImageIO, opts: { all?: boolean | undefined; force?: boolean | undefined } = {}): Promise<void> {
  if (!opts.force && !io.stdin.isTTY) {
    throw new UsageError('image prune asks for confirmation, but stdin is not a terminal', { hint: 'pass -f (--force) to prune without a prompt' });
  }
  const [{ pruneImages }, { pruneText }] = await Promise.all([import('../../../engine/image-tools.js'), import('../../render/images.js')]);
  const engine = await io.session();
  if (!opts.force) {
    const warning = opts.all
      ? 'WARNING! This will remove all images without at least one container associated to them.'
      : 'WARNING! This will remove all dangling images.';
    if (
      !(await confirm(
        `${warning}\nAre you sure you want to continue? [y/N] `,
        { input: io.stdin, output: io.stderr },
        { signal: engine.signal, terminal: false },
      ))
    ) {
      throw new TsComposeError('TSC_PRUNE_CANCELED', 'image prune has been cancelled');
    }
  }
  io.stdout.write(pruneText(await pruneImages(engine, opts)));
}
