/** `start` (works with `-p NAME` and no compose file). */
import type { Command } from '@commander-js/extra-typings';
import type { ContextOf } from '../context.js';
import { lifecycleCommand } from './lifecycle.js';

export function startCommand(program: Command, context: ContextOf) {
  return lifecycleCommand(program, context, 'start', 'Start services')
    .option('--wait', 'wait for services to be running|healthy')
    .option('--wait-timeout <seconds>', 'maximum duration to wait');
}
