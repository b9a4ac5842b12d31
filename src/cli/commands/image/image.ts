/** `image ls|pull|push|tag|rm|inspect|load|import|save|prune`: image tools for users without a Docker CLI (no compose file needed). */
import type { Command } from '@commander-js/extra-typings';
import type { ContextOf } from '../../context.js';
import { imageImportCommand } from './import.js';
import { imageInspectCommand } from './inspect.js';
import { imageLoadCommand } from './load.js';
import { imageLsCommand } from './ls.js';
import { imagePruneCommand } from './prune.js';
import { imagePullCommand } from './pull.js';
import { imagePushCommand } from './push.js';
import { imageRmCommand } from './rm.js';
import { imageSaveCommand } from './save.js';
import { imageTagCommand } from './tag.js';

export function imageCommand(program: Command, context: ContextOf) {
  const image = program.command('image').description('Manage images (no compose file needed)');
  for (const add of [
    imageLsCommand,
    imagePullCommand,
    imagePushCommand,
    imageTagCommand,
    imageRmCommand,
    imageInspectCommand,
    imageLoadCommand,
    imageImportCommand,
    imageSaveCommand,
    imagePruneCommand,
  ]) {
    add(image as unknown as Command, context);
  }
  return image;
}
