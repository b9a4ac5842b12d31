/** `image push REF`. */
import type { Command } from '@commander-js/extra-typings';
import type { ContextOf } from '../../context.js';
import { withImageIO, type ImageIO } from './io.js';

export function imagePushCommand(image: Command, context: ContextOf) {
  return image
    .command('push')
    .description('Upload an image to a registry')
    .option('-q, --quiet', 'suppress verbose output')
    .argument('<ref>', 'NAME[:TAG]')
    .action(async (ref, opts, cmd) => withImageIO(context(cmd), 'push', true, (io) => imagePush(io, ref, opts)));
}

export async function imagePush(io: ImageIO, ref: string, opts: { quiet?: boolean | undefined } = {}): Promise<void> {
  const { checkReference, pushImage } = await import('../../../engine/image-tools.js');
  checkReference(ref);
  await pushImage(await io.session(), ref, opts);
}
