/** `image rm REF... [-f]`: `Untagged: …` / `Deleted: sha256:…` lines (as `docker rmi`); failures reported together. */
import type { Command } from '@commander-js/extra-typings';
import type { ContextOf } from '../../context.js';
import { withImageIO, type ImageIO } from './io.js';

export function imageRmCommand(image: Command, context: ContextOf) {
  return image
    .command('rm')
    .alias('remove')
    .description('Remove one or more images')
    .option('-f, --force', 'force removal of the image')
    .argument('<refs...>', 'images (names or IDs)')
    .action(async (refs, opts, cmd) => withImageIO(context(cmd), 'rm', true, (io) => imageRm(io, refs, opts)));
}

export async function imageRm(io: ImageIO, refs: readonly string[], opts: { force?: boolean | undefined } = {}): Promise<void> {
  const [{ removeImages }, { removalText }] = await Promise.all([import('../../../engine/image-tools.js'), import('../../render/images.js')]);
  await removeImages(await io.session(), refs, opts, (r) => io.stdout.write(removalText(r)));
}
