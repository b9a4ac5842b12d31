/** `image pull REF...`: progress through the renderer, then each ref on stdout (as `docker pull`). */
import type { Command } from '@commander-js/extra-typings';
import type { ContextOf } from '../../context.js';
import { withImageIO, type ImageIO } from './io.js';

export function imagePullCommand(image: Command, context: ContextOf) {
  return image
    .command('pull')
    .description('Download images from a registry')
    .option('-q, --quiet', 'suppress verbose output')
    .option('--platform <platform>', 'set platform if server is multi-platform capable')
    .argument('<refs...>', 'NAME[:TAG|@DIGEST]')
    .action(async (refs, opts, cmd) => withImageIO(context(cmd), 'pull', true, (io) => imagePull(io, refs, opts)));
}

export async function imagePull(
  io: ImageIO,
  refs: readonly string[],
  opts: { quiet?: boolean | undefined; platform?: string | undefined } = {},
): Promise<void> {
  const { checkReference, pullImages } = await import('../../../engine/image-tools.js');
  for (const r of refs) checkReference(r);
  await pullImages(await io.session(), refs, { ...opts, onPulled: (ref) => io.stdout.write(`${ref}\n`) });
}
