/** `image tag SOURCE TARGET`. */
import type { Command } from '@commander-js/extra-typings';
import type { ContextOf } from '../../context.js';
import { withImageIO, type ImageIO } from './io.js';

export function imageTagCommand(image: Command, context: ContextOf) {
  return image
    .command('tag')
    .description('Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE')
    .argument('<source>', 'SOURCE_IMAGE[:TAG] or image ID')
    .argument('<target>', 'TARGET_IMAGE[:TAG]')
    .action(async (source, target, _opts, cmd) => withImageIO(context(cmd), 'tag', true, (io) => imageTag(io, source, target)));
}

export async function imageTag(io: ImageIO, source: string, target: string): Promise<void> {
  const { checkReference, tagImage } = await import('../../../engine/image-tools.js');
  checkReference(target);
  await tagImage(await io.session(), source, target);
}
