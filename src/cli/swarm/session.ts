/**
 * `--runtime swarm` (or TSCOMPOSE_RUNTIME=swarm): the project is a stack on the swarm the Docker endpoint
 * (DOCKER_HOST, or /var/run/docker.sock) belongs to. The commands that have a swarm form (up, down, ps) hand over
 * to ./commands.ts here; the others refuse with a clear error. Loaded only by those commands, lazily.
 */
import { setMaxListeners } from 'node:events';
import type { SwarmApi } from '../../swarm/port.js';
import type { StackContext } from '../../swarm/stack/stack.js';
import { CanceledError } from '../canceled.js';
import type { CommandContext } from '../context.js';
import { createRenderer } from '../render/renderer.js';

async function swarmApi(env: NodeJS.ProcessEnv): Promise<SwarmApi> {
  const { DockerSwarm } = await import('../../swarm/docker/swarm-docker.js');
  return new DockerSwarm({ env });
}

/** Runs `fn` with the swarm, a progress renderer and Ctrl-C wired to an abort. */
export async function withSwarm<T>(ctx: CommandContext, fn: (s: StackContext) => Promise<T>): Promise<T> {
  const api = await swarmApi(process.env);
  const renderer = await createRenderer(ctx.globals.progress, process.stderr, ctx.globals.ansi !== 'never' && !process.env.NO_COLOR);
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  const onSignal = (): void => controller.abort(new CanceledError());
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await fn({ api, events: renderer, signal: controller.signal });
  } catch (e) {
    if (controller.signal.aborted && !(e instanceof CanceledError)) throw new CanceledError();
    throw e;
  } finally {
    renderer.stop();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
