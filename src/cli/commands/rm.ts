/** `rm` (works with `-p NAME` and no compose file). */
import type { Command } from '@commander-js/extra-typings';
import type { ContextOf } from '../context.js';
import { lifecycleCommand } from './lifecycle.js';

export function rmCommand(program: Command, context: ContextOf) {
  return lifecycleCommand(program, context, 'rm', 'Removes stopped service containers')
    .option('-f, --force', "don't ask to confirm removal")
    .option('-s, --stop', 'stop the containers, if required, before removing')
    .option('-v, --volumes', 'remove any anonymous volumes attached to containers');
}
