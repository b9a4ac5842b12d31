/** `kill` (works with `-p NAME` and no compose file). */
import type { Command } from '@commander-js/extra-typings';
import type { ContextOf } from '../context.js';
import { lifecycleCommand } from './lifecycle.js';

export function killCommand(program: Command, context: ContextOf) {
  return lifecycleCommand(program, context, 'kill', 'Force stop service containers')
    .option('-s, --signal <signal>', 'SIGNAL to send to the container', 'SIGKILL')
    .option('--remove-orphans', 'remove containers for services not defined in the compose file');
}
