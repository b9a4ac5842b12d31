/** `create`: `up --no-start`. */
import type { Command } from '@commander-js/extra-typings';
import type { ContextOf } from '../context.js';
import { runUp, upLikeCommand } from './up.js';

export function createCommand(program: Command, context: ContextOf) {
  return upLikeCommand(program, 'create', 'Creates containers for a service')
    .argument('[services...]', 'services to create')
    .action(async (services, opts, cmd) => runUp(context(cmd), services, opts as never, 'create'));
}
