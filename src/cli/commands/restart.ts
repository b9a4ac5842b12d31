/** `restart` (works with `-p NAME` and no compose file). */
import type { Command } from '@commander-js/extra-typings';
import type { ContextOf } from '../context.js';
import { timeoutOption } from './common.js';
import { lifecycleCommand } from './lifecycle.js';

export function restartCommand(program: Command, context: ContextOf) {
  return lifecycleCommand(program, context, 'restart', 'Restart service containers')
    .addOption(timeoutOption())
    .option('--no-deps', "don't restart dependent services");
}
