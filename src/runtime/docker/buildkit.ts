/**
 * Builds through the Docker Engine's BuildKit (`POST /build?version=2&session=<id>`), as `docker compose build`
 * and `docker buildx build` on the default builder do, and the choice between it and the classic builder.
 *
 * The choice follows the docker CLI (cli/command/utils BuildKitEnabled, image/build_session isSessionSupported):
 * DOCKER_BUILDKIT set in the environment decides (a boolean, as strconv.ParseBool); otherwise BuildKit unless the
 * engine's API is older than 1.39 (1.31 with experimental features on: the first engines with BuildKit builds),
 * its `/_ping` says `Builder-Version: 1` (its default builder is the classic one), or it runs Windows containers.
 * A `build.network` naming a network other than default/host/none also takes the classic builder, the only one
 * that attaches RUN to a user network. The caller falls back to classic when the session cannot be opened.
 *
 * The build stream is the classic one's JSON messages plus `moby.buildkit.trace` messages (a base64
 * StatusResponse each, decoded by buildkit-proto.ts and rendered by buildkit-progress.ts) and a final
 * `moby.image.id` message with the image id.
 */
import type Docker from 'dockerode';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { BuildError } from '../errors.js';
import type { BuildProgress } from '../info.js';
import type { BuildSpec } from '../spec.js';
import { readDockerignore } from './build-context.js';
import type { SyncedDir } from './buildkit-filesync.js';
import { lowerHeredocs } from './buildkit-heredoc.js';
import { BuildkitProgress, BuildStepError } from './buildkit-progress.js';
import { decodeStatus } from './buildkit-proto.js';
import { openSession, type BuildSession } from './buildkit-session.js';
import { engineMessage, isAbortError } from './errors.js';
import { readProgress } from './streams.js';

export type BuilderChoice = { readonly buildkit: true } | { readonly buildkit: false; readonly reason: string };

/** What `/_ping` says: the headers that matter for the choice. */
export interface PingInfo {
  readonly apiVersion: string | undefined;
  readonly builderVersion: string | undefined;
  readonly osType: string | undefined;
  readonly experimental: boolean;
}

/** `1.41` < `1.9`? No: compares dotted numbers field by field. */
export function versionLess(a: string, b: string): boolean {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (x !== y) return x < y;
  }
  return false;
}

/** strconv.ParseBool's spellings; undefined for anything else. */
function parseBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}

const NO_BUILDKIT = 'the engine has no BuildKit';

/** Which builder to use, from the engine's ping, the DOCKER_BUILDKIT variable and the build's network. */
export function chooseBuilder(ping: PingInfo, env: Readonly<Record<string, string | undefined>>, network?: string): BuilderChoice {
  const forced = env['DOCKER_BUILDKIT'];
  if (forced !== undefined && forced !== '') {
    const on = parseBool(forced);
    if (on === false) return { buildkit: false, reason: `DOCKER_BUILDKIT=${forced}` };
  }
  const api = ping.apiVersion;
  if (api !== undefined && (versionLess(api, '1.31') || (versionLess(api, '1.39') && !ping.experimental))) {
    return { buildkit: false, reason: `${NO_BUILDKIT}: API ${api}` };
  }
  if (forced === undefined || forced === '' || parseBool(forced) === undefined) {
    if (ping.builderVersion === '1') return { buildkit: false, reason: `${NO_BUILDKIT} as its default builder` };
    if (ping.builderVersion !== '2' && ping.osType === 'windows') return { buildkit: false, reason: `${NO_BUILDKIT} for Windows containers` };
  }
  if (network !== undefined && !['default', 'host', 'none', ''].includes(network)) {
    return { buildkit: false, reason: `build.network ${network}: BuildKit runs RUN only on default, host or none` };
  }
  return { buildkit: true };
}

/** `GET /_ping` with its headers (dockerode's ping() gives the body only). */
export function ping(docker: Docker, signal?: AbortSignal): Promise<PingInfo> {
  return new Promise((resolve, reject) => {
    const modem = docker.modem as unknown as { dial: (o: object, cb: (err: Error | null, res: Readable | null) => void) => void };
    const opts = {
      path: '/_ping',
      method: 'GET',
      isStream: true,
      statusCodes: { 200: true, 500: 'server error' },
      ...(signal ? { abortSignal: signal } : {}),
    };
    modem.dial(opts, (err, res) => {
      if (err || !res) return reject(err ?? new Error('no answer to /_ping'));
      const headers = (res as unknown as { headers: Record<string, string | undefined> }).headers;
      res.resume();
      resolve({
        apiVersion: headers['api-version'],
        builderVersion: headers['builder-version'],
        osType: headers['ostype']?.toLowerCase(),
        experimental: headers['docker-experimental'] === 'true',
      });
    });
  });
}

/**
 * The engine API version from which its built-in Dockerfile frontend has heredocs (Docker Engine 23.0: BuildKit
 * 0.10, Dockerfile 1.4); older ones need them rewritten (buildkit-heredoc.ts).
 */
export const HEREDOC_API = '1.42';

/** A BuildKit build ready to run: its session (serving the context, the Dockerfile and the secrets). */
export interface PreparedBuild {
  readonly session: BuildSession;
  /** The Dockerfile's name in the session's `dockerfile` directory. */
  readonly dockerfile: string;
  /** How many heredoc instructions were rewritten (see buildkit-heredoc.ts). */
  readonly rewritten: number;
}

/**
 * Reads the Dockerfile (rewriting heredocs when `lowerHeredocs`) and the ignore file, and opens the session that
 * serves them: `context` (the context directory, less what the ignore file excludes, plus heredoc bodies) and
 * `dockerfile` (the Dockerfile alone, with its own `<name>.dockerignore` if it has one). An unreadable
 * Dockerfile is a BuildError; a session the engine refuses rejects with the engine's error.
 */
export async function prepareBuild(
  docker: Docker,
  spec: BuildSpec,
  options: { lowerHeredocs: boolean; signal?: AbortSignal | undefined },
): Promise<PreparedBuild> {
  const ref = spec.tags[0] ?? spec.context;
  const dfRel = spec.dockerfile ?? 'Dockerfile';
  const dfPath = path.resolve(spec.context, dfRel);
  let text = spec.dockerfileInline;
  const ownIgnore: { path: string; content: Buffer; mode: number }[] = [];
  try {
    if (text === undefined) {
      text = await readFile(dfPath, 'utf8');
      const own = await readFile(`${dfPath}.dockerignore`).catch(() => undefined);
      if (own) ownIgnore.push({ path: `${path.basename(dfPath)}.dockerignore`, content: own, mode: 0o644 });
    }
  } catch (e) {
    throw new BuildError(ref, `reading the Dockerfile ${dfPath}: ${(e as Error).message}`, { cause: e });
  }
  const name = spec.dockerfileInline === undefined ? path.basename(dfPath) : 'Dockerfile';
  const lowered = options.lowerHeredocs ? lowerHeredocs(text, { buildArgs: spec.args, mounts: true }) : undefined;
  let excludes: string[];
  try {
    excludes = await readDockerignore(spec.context, spec.dockerfileInline === undefined ? path.relative(spec.context, dfPath) : undefined);
  } catch (e) {
    throw new BuildError(ref, `reading the build context ${spec.context}: ${(e as Error).message}`, { cause: e });
  }
  const dirs: Record<string, SyncedDir> = {
    context: { dir: spec.context, excludes, files: lowered?.files ?? [] },
    dockerfile: { files: [{ path: name, content: lowered?.dockerfile ?? text, mode: 0o644 }, ...ownIgnore] },
  };
  const sharedKey = createHash('sha256').update(`${hostname()}:${spec.context}`).digest('hex');
  const session = await openSession(docker, { secrets: spec.secrets ?? [], dirs, sharedKey, signal: options.signal });
  return { session, dockerfile: name, rewritten: lowered?.rewritten ?? 0 };
}

export interface BuildkitBuildOptions {
  readonly ref: string;
  readonly signal?: AbortSignal | undefined;
  /** BuildKit's progress (buildkit-progress.ts), and the engine's own text lines. */
  readonly onProgress?: ((event: BuildProgress) => void) | undefined;
}

/**
 * Runs `POST /build` with BuildKit, the context coming over the session: `query` is the classic builder's (tags,
 * args, labels, target, …). Resolves with the image id; throws BuildStepError for a failed RUN, BuildError
 * otherwise.
 */
export async function buildWithBuildkit(
  docker: Docker,
  query: Record<string, unknown>,
  build: PreparedBuild,
  options: BuildkitBuildOptions,
): Promise<{ id: string | undefined }> {
  const q: Record<string, unknown> = { ...query, dockerfile: build.dockerfile, version: '2', session: build.session.id, remote: 'client-session' };
  // docker-modem JSON-encodes objects in the query, but repeats arrays; the engine wants cachefrom as JSON.
  if (Array.isArray(q['cachefrom'])) q['cachefrom'] = JSON.stringify(q['cachefrom']);
  const progress = new BuildkitProgress();
  const emit = (event: BuildProgress): void => options.onProgress?.(event);
  let id: string | undefined;
  let failure: string | undefined;
  try {
    const stream = await new Promise<Readable>((resolve, reject) => {
      const modem = docker.modem as unknown as { dial: (o: object, cb: (err: Error | null, res: Readable | null) => void) => void };
      modem.dial(
        {
          path: '/build?',
          method: 'POST',
          file: Buffer.alloc(0), // no context in the body: it comes over the session
          options: q,
          isStream: true,
          statusCodes: { 200: true, 400: 'bad parameter', 500: 'server error' },
          ...(options.signal ? { abortSignal: options.signal } : {}),
        },
        (err, res) => (err || !res ? reject(err ?? new Error('no answer to POST /build')) : resolve(res)),
      );
    });
    failure = await readProgress(stream, (m) => {
      const raw = m as { id?: string; aux?: unknown; stream?: string };
      if (raw.id === 'moby.buildkit.trace' && typeof raw.aux === 'string') {
        for (const event of progress.push(decodeStatus(Buffer.from(raw.aux, 'base64')))) emit(event);
        return;
      }
      if (raw.id === 'moby.image.id') {
        const aux = raw.aux as { ID?: string } | undefined;
        if (aux?.ID) id = aux.ID;
        return;
      }
      if (raw.stream !== undefined) for (const line of raw.stream.split('\n')) if (line.trim() !== '') emit({ text: line });
    });
  } catch (e) {
    if (isAbortError(e)) throw e;
    throw new BuildError(options.ref, engineMessage(e), { cause: e });
  }
  if (failure !== undefined) {
    const step = progress.failed();
    if (step && /exit code: \d+/.test(step.error)) throw new BuildStepError(options.ref, step.name, step.error, step.output);
    throw new BuildError(options.ref, step && !failure.includes(step.name) ? `${step.name}: ${failure}` : failure);
  }
  return { id };
}
