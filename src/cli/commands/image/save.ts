/** `image save [-o FILE] REF...`: to FILE, or to stdout when it is not a terminal. */
import type { Command } from '@commander-js/extra-typings';
import { UsageError } from '../../../errors.js';
import type { ContextOf } from '../../context.js';
import { writeStream } from '../../output.js';
import { withImageIO, type ImageIO } from './io.js';

export function imageSaveCommand(image: Command, context: ContextOf) {
  return image
    .command('save')
    .description('Save one or more images to a tar archive (streamed to STDOUT by default)')
    .option('-o, --output <file>', 'write to a file, instead of STDOUT')
    .argument('<refs...>', 'images (names or IDs)')
    .action(async (refs, opts, cmd) => withImageIO(context(cmd), 'save', false, (io) => imageSave(io, refs, opts)));
}

export async function imageSave(io: ImageIO, refs: readonly string[], opts: { output?: string | undefined } = {}): Promise<void> {
  if (opts.output === undefined && io.stdout.isTTY) {
    throw new UsageError('cowardly refusing to save to a terminal', { hint: 'use the -o flag or redirect: tscompose image save IMAGE > image.tar' });
  }
  const { saveImages, saveImagesToFile } = await import('../../../engine/image-tools.js');
  const engine = await io.session();
  if (opts.output === undefined) await writeStream(io.stdout, await saveImages(engine, refs));
  else await saveImagesToFile(engine, refs, opts.output);
}
