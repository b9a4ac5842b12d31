/** `image load [-i FILE]`: from FILE, or from stdin when it is not a terminal. */
import type { Command } from '@commander-js/extra-typings';
import type { Readable } from 'node:stream';
import { UsageError } from '../../../errors.js';
import type { ContextOf } from '../../context.js';
import { withImageIO, type ImageIO } from './io.js';

export function imageLoadCommand(image: Command, context: ContextOf) {
  return image
    .command('load')
    .description('Load images from a tar archive (docker save format) or STDIN')
    .option('-i, --input <file>', 'read from tar archive file, instead of STDIN')
    .action(async (opts, cmd) => withImageIO(context(cmd), 'load', true, (io) => imageLoad(io, opts)));
}

export async function imageLoad(io: ImageIO, opts: { input?: string | undefined } = {}): Promise<void> {
  if (opts.input === undefined && io.stdin.isTTY) {
    throw new UsageError('requested load from stdin, but stdin is a terminal', {
      hint: 'pass an archive with -i FILE, or redirect one: tscompose image load < image.tar',
    });
  }
  const { loadImages, openImageArchive } = await import('../../../engine/image-tools.js');
  const archive = opts.input === undefined ? (io.stdin as Readable) : await openImageArchive(opts.input);
  try {
    for (const line of await loadImages(await io.session(), archive)) io.stdout.write(`${line}\n`);
  } finally {
    if (opts.input !== undefined) archive.destroy();
  }
}
