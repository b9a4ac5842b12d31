/**
 * `buildImage` of the native runtime: a compose build (BuildSpec) run by the native builder (lib/build/solver) into
 * the runtime's image store, with RUN steps in containers of its OCI runtime (./worker.ts). Base images are taken
 * from the store, pulled when missing (or always with `pull`). Progress goes out as the port's BuildProgress: one
 * event per step change (`[2/4] RUN …`, `CACHED`, `DONE 1.2s`) and per chunk of a step's output.
 */
import { readFileSync } from 'node:fs';
import { lstat, readdir, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { TsComposeError } from '../../../errors.js';
import { CodedError } from '../../../lib/errors.js';
import { loadDockerIgnore } from '../../../lib/build/context/ignore.js';
import { buildImage } from '../../../lib/build/solver/builder.js';
import { BuildCache } from '../../../lib/build/solver/cache.js';
import { RunStepError } from '../../../lib/build/solver/errors.js';
import { stepLabel, type BuildEvent, type BuildSecret, type RunNetwork } from '../../../lib/build/solver/types.js';
import { isNoSpace, noSpaceError } from '../../../lib/image/no-space.js';
import { parsePlatform } from '../../../lib/image/platform.js';
import { BuildError } from '../../errors.js';
import type { BuildProgress, BuildSpec, CallOptions } from '../../runtime.js';
import type { NativeContext } from '../context.js';
import { portError } from '../images.js';
import { NativeBuildWorker } from './worker.js';

function networkOf(spec: BuildSpec): RunNetwork | undefined {
  const n = spec.network;
  if (n === undefined || n === '' || n === 'default' || n === 'bridge') return n === undefined ? undefined : 'default';
  if (n === 'host' || n === 'none') return n;
  throw new TsComposeError('TSC_BUILD_NETWORK', `build network "${n}" is not supported by the native builder`, { hint: 'use default, host or none' });
}

function checkPlatform(spec: BuildSpec): void {
  if (spec.platform === undefined || spec.platform === '') return;
  const host = parsePlatform();
  const want = parsePlatform(spec.platform);
  if (want.os !== host.os || want.architecture !== host.architecture || (want.variant ?? '') !== (host.variant ?? '')) {
    throw new TsComposeError(
      'TSC_BUILD_PLATFORM',
      `the native builder builds for this machine's platform only (${host.os}/${host.architecture}), not ${spec.platform}`,
      {
        hint: 'drop build.platforms/platform, or build with --runtime docker',
      },
    );
  }
}

/** The progress event of a builder event. */
export function progressOf(e: BuildEvent): BuildProgress | undefined {
  if (e.type === 'warning') return { text: e.text };
  const label = stepLabel(e.step);
  const first = e.step.text.split('\n')[0] ?? '';
  const step = { id: e.step.id, stage: e.step.stage, number: e.step.number, total: e.step.total, text: e.step.text };
  if (e.type === 'output') return { text: e.text, output: { stepId: e.step.id, stream: e.stream } };
  const secs = e.durationMs !== undefined ? ` ${(e.durationMs / 1000).toFixed(1)}s` : '';
  const text =
    e.status === 'running'
      ? `${label} ${first}`
      : e.status === 'cached'
        ? `${label} CACHED ${first}`
        : e.status === 'done'
          ? `${label} DONE${secs}`
          : `${label} ERROR`;
  return { text, step: { ...step, status: e.status, ...(e.durationMs !== undefined ? { durationMs: e.durationMs } : {}) } };
}

export async function buildNative(
  ctx: NativeContext,
  spec: BuildSpec,
  options: CallOptions & { onProgress?: ((event: BuildProgress) => void) | undefined } = {},
): Promise<{ id: string }> {
  checkPlatform(spec);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec.context) || /^git@/.test(spec.context)) {
    throw new TsComposeError('TSC_BUILD_UNSUPPORTED', `build context ${spec.context}: the native builder takes a local directory only`, {
      hint: 'clone the repository and point build.context at it, or build with --runtime docker',
    });
  }
  // RUN steps write their secrets' values into scratch files under the state directory: private first
  await ctx.state.ensureSecure();
  const images = await ctx.images();
  const store = images.store;
  const dockerfilePath = path.resolve(spec.context, spec.dockerfile ?? 'Dockerfile');
  let text: string;
  let name: string;
  if (spec.dockerfileInline !== undefined) {
    text = spec.dockerfileInline;
    name = 'Dockerfile (inline)';
  } else {
    name = path.relative(process.cwd(), dockerfilePath) || dockerfilePath;
    try {
      text = readFileSync(dockerfilePath, 'utf8'); // small, once: no thread-pool round trips
    } catch (e) {
      throw new TsComposeError('TSC_BUILD_DOCKERFILE', `cannot read the Dockerfile ${name}: ${(e as Error).message}`, {
        hint: 'check build.context and build.dockerfile',
      });
    }
  }
  const ignore = await loadDockerIgnore(spec.context, spec.dockerfileInline !== undefined ? undefined : path.relative(spec.context, dockerfilePath));
  const workRoot = path.join(ctx.paths.root, 'build');
  const secrets: Record<string, BuildSecret> = {};
  for (const s of spec.secrets ?? []) {
    if (s.file !== undefined) secrets[s.id] = { file: s.file };
    else if (s.env !== undefined) secrets[s.id] = { content: Buffer.from(s.env) };
  }
  const network = networkOf(spec);
  for (const [k, v] of Object.entries(spec.additionalContexts ?? {})) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v) || v.startsWith('service:')) {
      throw new TsComposeError('TSC_BUILD_UNSUPPORTED', `additional context ${k}=${v}: the native builder takes directories only`, {
        hint: 'give a directory, or build with --runtime docker',
      });
    }
  }
  const ref = spec.tags[0] ?? spec.context;
  const worker = new NativeBuildWorker(ctx, path.join(workRoot, 'worker'));
  // Before the solver sweeps the scratch of killed builds: their RUN steps' containers may still hold it.
  await worker.reapOrphans();
  try {
    const r = await buildImage({
      store,
      worker,
      workRoot,
      context: spec.context,
      dockerfile: { text, name },
      ignore,
      ...(spec.args ? { buildArgs: spec.args } : {}),
      ...(spec.target ? { target: spec.target } : {}),
      ...(spec.labels ? { labels: spec.labels } : {}),
      tags: spec.tags,
      noCache: spec.noCache === true,
      ...(spec.cacheFrom ? { cacheFrom: spec.cacheFrom.map((c) => c.replace(/^type=registry,ref=/, '')).filter((c) => !c.includes('=')) } : {}),
      pull: spec.pull === true,
      ...(network ? { network } : {}),
      ...(spec.extraHosts ? { extraHosts: spec.extraHosts } : {}),
      ...(spec.shmSizeBytes !== undefined ? { shmSizeBytes: spec.shmSizeBytes } : {}),
      secrets,
      ...(spec.additionalContexts ? { additionalContexts: spec.additionalContexts } : {}),
      baseImage: async (r, o) => {
        if (!o.pull) {
          const found = await store.resolve(r);
          if (found) return found;
        }
        try {
          return await store.pull(r, o.signal ? { signal: o.signal } : {});
        } catch (e) {
          throw portError(e);
        }
      },
      onEvent: (e) => {
        const p = progressOf(e);
        if (p) options.onProgress?.(p);
      },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return { id: r.image.id };
  } catch (e) {
    if (options.signal?.aborted) throw e;
    // A full disk (a RUN step's writes, COPY, a layer's commit, a base image's pull): TSC_NO_SPACE, naming the filesystem.
    if (isNoSpace(e)) throw await noSpaceError(e, `building ${ref}`, e instanceof RunStepError ? workRoot : ctx.paths.root);
    if (e instanceof RunStepError) throw new BuildError(ref, e.message, { hint: e.hint });
    if (e instanceof CodedError) throw e;
    throw new BuildError(ref, (e as Error).message);
  } finally {
    await worker.close().catch(() => undefined);
  }
}

/** `builder prune`: the build cache's entries (and with `all` the cache mounts), then what the store no longer needs. */
export async function pruneNativeBuildCache(ctx: NativeContext, all: boolean): Promise<{ deleted: number; reclaimedBytes: number }> {
  const store = (await ctx.images()).store;
  const deleted = await new BuildCache(store.root).prune();
  let reclaimedBytes = 0;
  if (all) {
    const mounts = path.join(ctx.paths.root, 'build', 'cache-mounts');
    reclaimedBytes += await diskUsage(mounts);
    await rm(mounts, { recursive: true, force: true });
  }
  reclaimedBytes += await store.gc();
  return { deleted, reclaimedBytes };
}

async function diskUsage(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await diskUsage(p);
    else total += (await lstat(p).catch(() => ({ size: 0 }))).size;
  }
  return total;
}
