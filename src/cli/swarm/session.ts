/**
 * `--runtime swarm` (or TSCOMPOSE_RUNTIME=swarm): the project is a stack on the swarm the Docker endpoint
 * (DOCKER_HOST, or /var/run/docker.sock) belongs to. The commands that have a swarm form (up, down, ps, logs, scale,
 * images, pull, push, build; `config` needs no engine) hand over to ./commands.ts, ./logs.ts and ./images.ts here;
 * the others refuse with a clear error (src/cli/runtime.ts). Loaded only by those commands, lazily.
 */
import { setMaxListeners } from 'node:events';
import type { EngineContext } from '../../engine/events.js';
import type { DockerSwarm } from '../../swarm/docker/swarm-docker.js';
import type { ImageRegistry } from '../../swarm/images.js';
import type { StackContext } from '../../swarm/stack/stack.js';
import { parallelLimit } from '../../project/graph.js';
import { CanceledError } from '../canceled.js';
import type { CommandContext } from '../context.js';
import { createRenderer } from '../render/renderer.js';

async function swarmApi(env: NodeJS.ProcessEnv): Promise<DockerSwarm> {
  const { DockerSwarm } = await import('../../swarm/docker/swarm-docker.js');
  return new DockerSwarm({ env });
}

/** A swarm command's context: the stack engine's, plus the manager's Docker Engine for images. */
export interface SwarmSession extends StackContext {
  /** The manager's Docker Engine as a runtime (builds, pushes, pulls), made on first use. */
  engine(): Promise<EngineContext>;
  /** The registry, asked through the manager's engine (digests of image tags). */
  readonly registry: ImageRegistry;
}

/** Runs `fn` with the swarm, a progress renderer and Ctrl-C wired to an abort. */
export async function withSwarm<T>(ctx: CommandContext, fn: (s: SwarmSession) => Promise<T>): Promise<T> {
  const api = await swarmApi(process.env);
  const { EngineRegistry } = await import('../../swarm/images-docker.js');
  const renderer = await createRenderer(ctx.globals, process.stderr);
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  const onSignal = (): void => controller.abort(new CanceledError());
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let engine: Promise<EngineContext> | undefined;
  const session: SwarmSession = {
    api,
    events: renderer,
    signal: controller.signal,
    registry: new EngineRegistry(api.docker),
    engine: () =>
      (engine ??= (async () => {
        // The same endpoint as the swarm's: the manager's engine builds, pushes and pulls.
        const { selectRuntime } = await import('../../runtime/select.js');
        const runtime = await selectRuntime('docker', process.env, { signal: controller.signal });
        return { runtime, events: renderer, signal: controller.signal, concurrency: parallelLimit(ctx.globals.parallel) };
      })()),
  };
  try {
    return await fn(session);
  } catch (e) {
    if (controller.signal.aborted && !(e instanceof CanceledError)) throw new CanceledError();
    throw e;
  } finally {
    renderer.stop();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
