/** `stop` (works with `-p NAME` and no compose file). */
import type { Command } from '@commander-js/extra-typings';
import type { ContextOf } from '../context.js';
import { timeoutOption } from './common.js';
import { lifecycleCommand } from './lifecycle.js';

export function stopCommand(program: Command, context: ContextOf) {
  return lifecycleCommand(program, context, 'stop', 'Stop services').addOption(timeoutOption());
}
