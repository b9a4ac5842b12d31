/**
 * `image import FILE|- [REPOSITORY[:TAG]]`, as `docker import`: a root filesystem tarball (plain, gzip, xz, bzip2,
 * zstd) becomes a one-layer image; `-c` applies Dockerfile instructions to its config, `-m` sets the history
 * comment. Prints the image id. (docker import also takes a URL; tscompose takes a file or stdin.)
 */
import type { Command } from '@commander-js/extra-typings';
import type { Readable } from 'node:stream';
import { UsageError } from '../../../errors.js';
import type { ContextOf } from '../../context.js';
import { withImageIO, type ImageIO } from './io.js';

export interface ImageImportOptions {
  change?: string[] | undefined;
  message?: string | undefined;
  platform?: string | undefined;
}

export function imageImportCommand(image: Command, context: ContextOf) {
  return image
    .command('import')
    .description('Import the contents from a tarball to create a filesystem image')
    .argument('<file>', 'a root filesystem tarball, or - for STDIN')
    .argument('[repository]', 'REPOSITORY[:TAG] to give the image')
    .option('-c, --change <instruction>', 'apply a Dockerfile instruction to the created image', (v: string, prev: string[] | undefined) => [
      ...(prev ?? []),
      v,
    ])
    .option('-m, --message <message>', 'set the commit message for the imported image')
    .option('--platform <platform>', "set the platform (the host's only)")
    .action(async (file, repository, opts, cmd) => withImageIO(context(cmd), 'import', true, (io) => imageImport(io, file, repository, opts)));
}

export async function imageImport(io: ImageIO, file: string, repository: string | undefined, opts: ImageImportOptions = {}): Promise<void> {
  const { checkImportOptions, importImage, openImageArchive } = await import('../../../engine/image-tools.js');
  const options = { changes: opts.change ?? [], message: opts.message, tag: repository, platform: opts.platform, source: file };
  checkImportOptions(options);
  if (file === '-' && io.stdin.isTTY) {
    throw new UsageError('requested import from stdin, but stdin is a terminal', {
      hint: 'redirect a tarball: tscompose image import - NAME < rootfs.tar',
    });
  }
  const tarball = file === '-' ? (io.stdin as Readable) : await openImageArchive(file);
  try {
    io.stdout.write(`${await importImage(await io.session(), tarball, options)}\n`);
  } finally {
    if (file !== '-') tarball.destroy();
  }
}
