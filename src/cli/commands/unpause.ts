/** `unpause` (works with `-p NAME` and no compose file). */
import type { Command } from '@commander-js/extra-typings';
import type { ContextOf } from '../context.js';
import { lifecycleCommand } from './lifecycle.js';

export function unpauseCommand(program: Command, context: ContextOf) {
  return lifecycleCommand(program, context, 'unpause', 'Unpause services');
}
