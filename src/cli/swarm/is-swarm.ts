/** Whether a command runs against a swarm (`--runtime swarm` or TSCOMPOSE_RUNTIME=swarm): kept apart so checking costs no import. */
import type { CommandContext } from '../context.js';

export function isSwarm(ctx: CommandContext, env: NodeJS.ProcessEnv = process.env): boolean {
  return (ctx.globals.runtime ?? env.TSCOMPOSE_RUNTIME) === 'swarm';
}

/** The commands with a swarm form. */
export const SWARM_COMMANDS = 'up, down, ps, logs, scale, images, pull, push, build and config';
