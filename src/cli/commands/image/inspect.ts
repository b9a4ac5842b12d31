/** `image inspect REF...`: a JSON array as `docker image inspect`; missing images are errors after the output. */
import type { Command } from '@commander-js/extra-typings';
import type { ContextOf } from '../../context.js';
import { withImageIO, type ImageIO } from './io.js';

export function imageInspectCommand(image: Command, context: ContextOf) {
  return image
    .command('inspect')
    .description('Display detailed information on one or more images (JSON)')
    .argument('<refs...>', 'images (names or IDs)')
    .action(async (refs, _opts, cmd) => withImageIO(context(cmd), 'inspect', false, (io) => imageInspect(io, refs)));
}

export async function imageInspect(io: ImageIO, refs: readonly string[]): Promise<void> {
  const [{ inspectImages }, { dockerImageInspect }] = await Promise.all([
    import('../../../engine/image-tools.js'),
    import('../../render/image-inspect.js'),
  ]);
  const { found, error } = await inspectImages(await io.session(), refs);
  io.stdout.write(`${JSON.stringify(found.map(dockerImageInspect), null, 4)}\n`);
  if (error !== undefined) throw error;
}
