/**
 * Picks the runtime for a command: `--runtime docker|native|auto` (or TSCOMPOSE_RUNTIME). `auto` is Docker when
 * its socket answers a ping, else native.
 */
import { TsComposeError } from '../errors.js';
import { RuntimeUnavailableError } from './errors.js';
import type { Runtime } from './runtime.js';
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
    hint: 'the native runtime needs root, conmon and runc or crun (apt-get install conmon runc); or use --runtime docker with a running Docker Engine',
  });
}

/** The native runtime, or why it cannot run here. Loaded lazily: Docker users never load its modules. */
async function makeNativeDefault(env: Env): Promise<Runtime> {
  const { NativeRuntime } = await import('./native/native-runtime.js');
  return new NativeRuntime({ env });
}

async function nativeProblem(rt: Runtime, callOptions: { signal?: AbortSignal }): Promise<string | undefined> {
  try {
    if (await rt.ping(callOptions)) return undefined;
  } catch (e) {
    return (e as Error).message;
  }
  if (process.getuid?.() !== 0) return 'it needs root';
  return 'conmon or an OCI runtime (runc, crun) is missing';
}

/**
 * Resolves `kind` to a Runtime. Docker: RuntimeUnavailableError when the engine does not answer. Native:
 * TSC_RUNTIME_UNAVAILABLE when it cannot run here (not root, conmon or runc/crun missing). `auto` prefers Docker
 * when it answers. `makeDocker`/`makeNative` are for tests.
 */
export async function selectRuntime(
  kind: RuntimeKind,
  env: Env = process.env,
  options: { signal?: AbortSignal; makeDocker?: (env: Env) => Runtime | Promise<Runtime>; makeNative?: (env: Env) => Promise<Runtime> } = {},
): Promise<Runtime> {
  // Loaded only when asked for: the native runtime never loads dockerode.
  const makeDocker = options.makeDocker ?? (async (e: Env) => new (await import('./docker/docker-runtime.js')).DockerRuntime({ env: e }));
  const makeNative = options.makeNative ?? makeNativeDefault;
  const callOptions = options.signal ? { signal: options.signal } : {};
  if (kind === 'native') {
    const rt = await makeNative(env);
    const problem = await nativeProblem(rt, callOptions);
    if (problem !== undefined) throw nativeUnavailable(problem);
    return rt;
  }
  const docker = await makeDocker(env);
  if (await docker.ping(callOptions)) return docker;
  if (kind === 'docker') {
    throw new RuntimeUnavailableError('docker', `the Docker Engine at ${dockerWhere(env)} does not answer`, { hint: DOCKER_HINT });
  }
  const rt = await makeNative(env);
  const problem = await nativeProblem(rt, callOptions);
  if (problem !== undefined) throw nativeUnavailable(`the Docker Engine at ${dockerWhere(env)} does not answer and ${problem}`);
  return rt;
}

/** An empty in-memory runtime (the FakeRuntime), for `--dry-run` when no engine answers. */
export async function emptyRuntime(): Promise<Runtime> {
  const { FakeRuntime } = await import('./fake/fake-runtime.js');
  return new FakeRuntime();
}

/** The native runtime's OCI runtime on this host and why it is that one, or why there is none (`tscompose version --verbose`). */
export type NativeOciRuntimeInfo = { readonly name: string; readonly path: string; readonly reason: string } | { readonly error: string };

/** Picks it as the native runtime would (native/oci/oci-choice.ts, TSCOMPOSE_OCI_RUNTIME): a few stats, no spawn, no runtime constructed. */
export async function nativeOciRuntime(env: Env = process.env): Promise<NativeOciRuntimeInfo> {
  const [{ chooseOciRuntime }, { nativeSettings }] = await Promise.all([import('./native/oci/oci-choice.js'), import('./native/context.js')]);
  try {
    const { name, path, reason } = chooseOciRuntime(nativeSettings(env).ociRuntime);
    return { name, path, reason };
  } catch (e) {
    return { error: (e as Error).message };
  }
}
