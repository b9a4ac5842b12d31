/**
 * Picks the runtime for a command: `--runtime docker|native|auto` (or TSCOMPOSE_RUNTIME). `auto` is Docker when
 * its socket answers a ping, else native.
 */
import { TsComposeError } from '../errors.js';
import { RuntimeUnavailableError } from './errors.js';
import type { Runtime } from './runtime.js';
import { DockerRuntime } from './docker/docker-runtime.js';
import { dockerConnection, type Env } from './docker/connection.js';
import { DOCKER_HINT } from './docker/errors.js';

export type RuntimeKind = 'docker' | 'native' | 'auto';

export function isRuntimeKind(s: string): s is RuntimeKind {
  return s === 'docker' || s === 'native' || s === 'auto';
}

function dockerWhere(env: Env): string {
  const c = dockerConnection(env);
  return c.socketPath !== undefined ? String(c.socketPath) : `${c.protocol ?? 'http'}://${c.host ?? ''}:${c.port ?? ''}`;
}

function nativeUnavailable(why: string): TsComposeError {
  return new TsComposeError('TSC_RUNTIME_UNAVAILABLE', `native runtime unavailable: ${why}`, {
    hint: 'the native runtime is not implemented yet; use --runtime docker (or TSCOMPOSE_RUNTIME=docker) with a running Docker Engine',
  });
}

/**
 * Resolves `kind` to a Runtime. Docker: RuntimeUnavailableError when the engine does not answer. Native: not
 * implemented yet (TSC_RUNTIME_UNAVAILABLE). `makeDocker` is for tests.
 */
export async function selectRuntime(
  kind: RuntimeKind,
  env: Env = process.env,
  options: { signal?: AbortSignal; makeDocker?: (env: Env) => Runtime } = {},
): Promise<Runtime> {
  const makeDocker = options.makeDocker ?? ((e: Env) => new DockerRuntime({ env: e }));
  const callOptions = options.signal ? { signal: options.signal } : {};
  if (kind === 'native') throw nativeUnavailable('requested with --runtime native');
  const docker = makeDocker(env);
  if (await docker.ping(callOptions)) return docker;
  if (kind === 'docker') {
    throw new RuntimeUnavailableError('docker', `the Docker Engine at ${dockerWhere(env)} does not answer`, { hint: DOCKER_HINT });
  }
  throw nativeUnavailable(`the Docker Engine at ${dockerWhere(env)} does not answer and the native runtime is not implemented yet`);
}
