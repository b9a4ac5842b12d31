/**
 * The native image builder: a Dockerfile (stages.ts resolves its stages and expands its instructions) built into
 * the image store, the way BuildKit's Dockerfile frontend builds it.
 * - Base images are resolved (pulled when missing, or always with `pull`) before the stages are expanded: their
 *   Env and ONBUILD triggers are part of the expansion.
 * - Only the stages the target needs are built; each waits for the stages it reads, so independent stages build
 *   at the same time.
 * - Config instructions change the image config (image-config.ts); filesystem steps (RUN, COPY, ADD, WORKDIR) run in
 *   a StepRoot (rootfs.ts) over the parent's layers, unless the build cache (cache.ts) has their key: then their
 *   layers are taken as they are (`CACHED`). A step that changed nothing adds no layer (BuildKit drops empty layers
 *   and marks their history entry `empty_layer`).
 * - The whole build holds a store lease: layers made or reused stay through a concurrent gc until the image and
 *   the cache entries name them. A failure or cancellation unmounts and removes the build's scratch directory;
 *   layers already committed stay as cache, like BuildKit's.
 */
import { BuildCache, stepKey } from './cache.js';
import { createHash } from 'node:crypto';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { BuildCanceledError, BuildUnsupportedError } from './errors.js';
import { applyToConfig, createdBy, isFilesystemStep, shellOf, stageConfig } from './image-config.js';
import { RunDir, StepRoot, sweepRuns } from './rootfs.js';
import { prepareCopy, prepareRun, prepareWorkdir, type PreparedStep, type SourceRef, type StageState, type StepContext } from './steps.js';
import type { BuildOptions, StepRef } from './types.js';
import { FileHashCache } from '../context/hash.js';
import { resolveDockerfile, type Stage, type StagePlan } from '../dockerfile/stages.js';
import { parsePlatform } from '../../image/platform.js';
import type { StoredImage, StoredLayer } from '../../image/records.js';
import type { StoreLease } from '../../image/diff/store-ops.js';
import type { HistoryEntry, OciImageConfig } from '../../image/types.js';

export interface BuildResult {
  readonly image: StoredImage;
  /** Steps run and steps taken from the cache. */
  readonly steps: { readonly run: number; readonly cached: number };
  readonly warnings: readonly string[];
}

interface StageResult extends StageState {
  history: HistoryEntry[];
  base: StoredImage | undefined;
  /** The cache key of each filesystem step, with how many layers the state had after it (inline cache). */
  keys: { key: string; layers: number; empty: boolean }[];
}

/**
 * The image config field that carries the build's cache keys (as BuildKit's inline cache `moby.buildkit.cache.v0`):
 * an image built here and pushed can seed another machine's cache through compose `cache_from`.
 */
export const INLINE_CACHE_FIELD = 'io.tscompose.build.cache.v0';

/** Steps being run in this process, by key and parent chain (builds of several services share them). */
const INFLIGHT = new Map<string, Promise<{ layer: StoredLayer | undefined }>>();

export class Builder {
  private readonly cache: BuildCache;
  private hashes = new FileHashCache();
  private readonly images = new Map<string, Promise<StoredImage>>();
  private readonly results = new Map<number, Promise<StageResult>>();
  private readonly counts = { run: 0, cached: 0 };
  private plan!: StagePlan;
  private readonly run: RunDir;
  /** Opened with the first layer the build makes or borrows (a build of cache hits only needs none). */
  private leaseCache: Promise<StoreLease> | undefined;

  /** Aborted by the caller's signal, or by the first failing stage (the others stop then). */
  private readonly abort = new AbortController();
  private readonly o: BuildOptions;
  private firstError: unknown;

  constructor(options: BuildOptions) {
    this.cache = new BuildCache(options.store.root);
    this.run = new RunDir(options.workRoot);
    const outer = options.signal;
    if (outer?.aborted) this.abort.abort();
    outer?.addEventListener('abort', () => this.abort.abort(), { once: true });
    this.o = { ...options, signal: this.abort.signal };
  }

  private lease(): Promise<StoreLease> {
    this.leaseCache ??= this.o.store.lease();
    return this.leaseCache;
  }

  private check(): void {
    if (this.abort.signal.aborted) throw new BuildCanceledError();
  }

  private image(ref: string): Promise<StoredImage> {
    let p = this.images.get(ref);
    if (!p) {
      p = this.o.baseImage(ref, { pull: this.o.pull === true, signal: this.o.signal });
      this.images.set(ref, p);
    }
    return p;
  }

  async build(): Promise<BuildResult> {
    const { text, name } = this.o.dockerfile;
    const platform = parsePlatform();
    // first pass: which images the needed stages start from or read
    const base = { ...(this.o.buildArgs ? { buildArgs: this.o.buildArgs } : {}), ...(this.o.target !== undefined ? { target: this.o.target } : {}) };
    const first = resolveDockerfile(text, name, base);
    const named = this.o.additionalContexts ?? {};
    const refs = new Set<string>();
    for (const i of first.order) {
      const st = first.stages[i]!;
      if (st.base.kind === 'image' && named[st.base.ref] === undefined) refs.add(st.base.ref);
      for (const r of st.images) if (named[r] === undefined) refs.add(r);
    }
    const loaded = new Map<string, StoredImage>();
    await Promise.all([...refs].map(async (r) => loaded.set(r, await this.image(r))));
    this.plan = resolveDockerfile(text, name, {
      ...base,
      baseImageEnv: (r) => loaded.get(r)?.config.config?.Env ?? undefined,
      onbuildTriggers: (r) => loaded.get(r)?.config.config?.OnBuild ?? undefined,
    });
    const warnings =
      this.plan.unusedBuildArgs.length > 0 ? [`[Warning] One or more build-args [${this.plan.unusedBuildArgs.join(' ')}] were not consumed`] : [];
    for (const w of warnings) this.o.onEvent?.({ type: 'warning', text: w });

    await sweepRuns(this.o.workRoot);
    // one file per context directory: a build loads the digests of its own files, not of every context built here
    const contextId = createHash('sha256').update(path.resolve(this.o.context)).digest('hex').slice(0, 32);
    const hashFile = path.join(this.o.workRoot, 'file-hashes', `${contextId}.json`);
    this.hashes = await FileHashCache.load(hashFile);
    try {
      for (const ref of this.o.cacheFrom ?? []) await this.seedCache(ref);
      let result: StageResult;
      try {
        result = await this.stage(this.plan.target);
      } catch (e) {
        // stop the other stages and let them unwind before the scratch space goes
        this.abort.abort();
        await Promise.allSettled(this.results.values());
        throw this.firstError ?? e;
      }
      this.check();
      const config = await this.stableCreated(this.finalConfig(result, platform));
      const image = (await this.unchanged(config)) ?? (await this.o.store.addImage(config, this.o.tags));
      return { image, steps: { ...this.counts }, warnings };
    } finally {
      await this.hashes.save(hashFile).catch(() => undefined);
      await this.run.remove().catch(() => undefined);
      await this.leaseCache?.then((l) => l.release()).catch(() => undefined);
    }
  }

  /** The image when the store has this very config under every tag already (a rebuild that changed nothing). */
  private async unchanged(config: OciImageConfig): Promise<StoredImage | undefined> {
    const id = `sha256:${createHash('sha256').update(JSON.stringify(config)).digest('hex')}`;
    if (this.o.tags.length === 0) return undefined;
    const found = await Promise.all(this.o.tags.map((t) => this.o.store.resolve(t).catch(() => undefined)));
    return found.every((i) => i?.id === id) ? found[0] : undefined;
  }

  /** compose `cache_from`: the steps an image built here carries in its config become cache entries. */
  private async seedCache(ref: string): Promise<void> {
    let img: StoredImage;
    try {
      img = await this.o.baseImage(ref, { pull: false, signal: this.o.signal });
    } catch (e) {
      this.o.onEvent?.({ type: 'warning', text: `cache_from ${ref}: ${(e as Error).message}` });
      return;
    }
    const keys = img.config[INLINE_CACHE_FIELD];
    if (!Array.isArray(keys)) return;
    await (await this.lease()).add(...img.layers.map((l) => l.chainId));
    for (const k of keys as { key?: unknown; layers?: unknown; empty?: unknown }[]) {
      if (typeof k.key !== 'string' || typeof k.layers !== 'number' || k.layers > img.layers.length) continue;
      if ((await this.cache.get(k.key)) !== undefined) continue;
      const layers = img.layers.slice(0, k.layers);
      await this.cache.put(k.key, { layers, emptyLayer: k.empty === true, created: Date.now(), description: `cache_from ${ref}` });
    }
  }

  /**
   * The same build gives the same image id (as BuildKit's, whose history times come from the cache): an image config
   * equal but for its times to one built before takes that build's times.
   */
  private async stableCreated(config: OciImageConfig): Promise<OciImageConfig> {
    const strip = (c: OciImageConfig): unknown => ({ ...c, created: '', history: (c.history ?? []).map((h) => ({ ...h, created: '' })) });
    const key = `image-${stepKey('image', strip(config))}`;
    const before = await this.cache.getImageTimes(key);
    if (before && before.history.length === (config.history ?? []).length) {
      return {
        ...config,
        created: before.created,
        history: (config.history ?? []).map((h, i) => ({ ...h, created: before.history[i] ?? h.created ?? '' })),
      };
    }
    await this.cache.putImageTimes(key, { created: config.created ?? '', history: (config.history ?? []).map((h) => h.created ?? '') });
    return config;
  }

  private finalConfig(r: StageResult, platform: ReturnType<typeof parsePlatform>): OciImageConfig {
    const created = new Date().toISOString();
    const config = structuredClone(r.cfg.config);
    if (this.o.labels && Object.keys(this.o.labels).length > 0) config.Labels = { ...(config.Labels ?? {}), ...this.o.labels };
    const base = r.base?.config;
    return {
      architecture: base?.architecture ?? platform.architecture,
      os: base?.os ?? platform.os,
      ...(base?.variant ? { variant: base.variant } : platform.variant ? { variant: platform.variant } : {}),
      created,
      ...(r.cfg.author !== undefined ? { author: r.cfg.author } : base?.author ? { author: base.author } : {}),
      config,
      rootfs: { type: 'layers', diff_ids: r.layers.map((l) => l.diffId) },
      history: r.history.map((h) => ({ created: h.created ?? created, ...h })),
      [INLINE_CACHE_FIELD]: r.keys,
    };
  }

  private stage(index: number): Promise<StageResult> {
    let p = this.results.get(index);
    if (!p) {
      p = this.buildStage(this.plan.stages[index]!);
      this.results.set(index, p);
      // the first failure stops the build (the target's chain may not wait on this stage yet)
      p.catch((e: unknown) => {
        if (!(e instanceof BuildCanceledError)) this.firstError ??= e;
        this.abort.abort();
      });
    }
    return p;
  }

  /** What a `from=` names: a stage of this Dockerfile, a named context, or an image. */
  private async source(from: string): Promise<SourceRef> {
    const named = this.o.additionalContexts?.[from];
    if (named !== undefined) return { kind: 'dir', dir: named };
    const byIndex = /^\d+$/.test(from) ? Number(from) : undefined;
    const st = this.plan.stages.find((s) => s.index === byIndex || s.name === from.toLowerCase());
    if (st) {
      const r = await this.stage(st.index);
      return { kind: 'state', layers: r.layers, key: r.key };
    }
    const img = await this.image(from);
    return { kind: 'state', layers: img.layers, key: img.id };
  }

  private async buildStage(stage: Stage): Promise<StageResult> {
    // the stages this one reads start now, in parallel
    for (const d of stage.dependencies) void this.stage(d);
    const multi = this.plan.stages.length > 1;
    const steps = stage.steps ?? [];
    const total = 1 + steps.filter((s) => isFilesystemStep(s.instruction)).length;
    const ref = (n: number, text: string): StepRef => ({
      id: `${stage.index}/${n}`,
      stage: multi ? stage.displayName : undefined,
      number: n,
      total,
      text: text.trim(),
    });
    const fromStep = ref(1, `FROM ${stage.base.kind === 'stage' ? this.plan.stages[stage.base.index]!.displayName : stage.from.image}`);
    const t0 = Date.now();
    this.o.onEvent?.({ type: 'step', step: fromStep, status: 'running' });
    let state: StageResult;
    const named = stage.base.kind === 'image' ? this.o.additionalContexts?.[stage.base.ref] : undefined;
    if (named !== undefined) {
      throw new BuildUnsupportedError(`FROM ${stage.from.image}: a named context as a base is not supported`);
    }
    if (stage.base.kind === 'stage') {
      const b = await this.stage(stage.base.index);
      state = {
        layers: [...b.layers],
        key: b.key,
        cfg: stageConfig(b.cfg.config, b.cfg.config.Env ?? []),
        history: [...b.history],
        base: b.base,
        keys: [...b.keys],
      };
    } else if (stage.base.kind === 'image') {
      const img = await this.image(stage.base.ref);
      state = {
        layers: [...img.layers],
        key: img.id,
        cfg: stageConfig(img.config.config, img.config.config?.Env ?? []),
        history: [...(img.config.history ?? [])],
        base: img,
        keys: [],
      };
    } else {
      state = { layers: [], key: 'scratch', cfg: stageConfig(undefined, []), history: [], base: undefined, keys: [] };
    }
    this.o.onEvent?.({ type: 'step', step: fromStep, status: 'done', durationMs: Date.now() - t0 });

    let n = 1;
    for (const step of steps) {
      this.check();
      const inst = step.instruction;
      const shell = shellOf(state.cfg.config);
      applyToConfig(state.cfg, inst, step.env);
      if (!isFilesystemStep(inst)) {
        const by = createdBy(inst, shell);
        if (by !== undefined) state.history.push({ created_by: by, comment: 'buildkit.dockerfile.v0', empty_layer: true });
        continue;
      }
      n++;
      const sref = ref(n, inst.original);
      const ctx: StepContext = { options: this.o, run: this.run, hashes: this.hashes, step: sref, source: (f) => this.source(f) };
      let prepared: PreparedStep;
      if (inst.kind === 'RUN') prepared = await prepareRun(ctx, state, inst, step.env);
      else if (inst.kind === 'COPY' || inst.kind === 'ADD') prepared = await prepareCopy(ctx, state, inst);
      else prepared = prepareWorkdir(ctx, state);
      const key = stepKey(state.key, prepared.key);
      const by = inst.kind === 'WORKDIR' ? `WORKDIR ${state.cfg.config.WorkingDir}` : `${createdBy(inst, shell)} # buildkit`;
      const { layer, cached } = await this.execute(sref, key, state.layers, prepared);
      if (layer) state.layers.push(layer);
      state.key = key;
      state.keys.push({ key, layers: state.layers.length, empty: !layer });
      state.history.push({ created_by: by, comment: 'buildkit.dockerfile.v0', ...(layer ? {} : { empty_layer: true }) });
      if (cached) this.counts.cached++;
      else this.counts.run++;
    }
    state.cfg.config.Env = [...(stage.configEnv ?? state.cfg.config.Env ?? [])];
    return state;
  }

  /** A filesystem step: from the cache, or run and committed (and then cached). */
  private async execute(
    step: StepRef,
    key: string,
    parent: readonly StoredLayer[],
    prepared: PreparedStep,
  ): Promise<{ layer: StoredLayer | undefined; cached: boolean }> {
    const t0 = Date.now();
    if (!this.o.noCache) {
      const hit = await this.cache.get(key);
      // the entry itself keeps its layers from gc (gc.ts reads the build cache); only a prune could take them. It
      // must sit on this very parent: a --no-cache run rewrites entries, and a later step's entry from an earlier
      // run may then name a layer made on another copy of its parent step (same key, other bytes: file times).
      if (hit && onParent(hit, parent) && (await this.present(hit.layers))) {
        this.o.onEvent?.({ type: 'step', step, status: 'cached' });
        return { layer: hit.emptyLayer ? undefined : hit.layers[hit.layers.length - 1], cached: true };
      }
    }
    // the same step on the same parent already running in another build of this process (services built at once
    // from alike Dockerfiles): wait for it and take its result, as BuildKit merges identical vertices
    const parentChain = parent[parent.length - 1]?.chainId ?? '';
    const running = this.o.noCache ? undefined : INFLIGHT.get(`${key}|${parentChain}`);
    if (running) {
      const other = await running.catch(() => undefined);
      if (other) {
        if (other.layer) await (await this.lease()).add(other.layer.chainId);
        this.o.onEvent?.({ type: 'step', step, status: 'cached' });
        return { layer: other.layer, cached: true };
      }
    }
    this.o.onEvent?.({ type: 'step', step, status: 'running' });
    const work = this.runStep(step, key, parent, prepared, t0);
    const slot = `${key}|${parentChain}`;
    INFLIGHT.set(slot, work);
    try {
      const layer = (await work).layer;
      return { layer, cached: false };
    } finally {
      if (INFLIGHT.get(slot) === work) INFLIGHT.delete(slot);
    }
  }

  private async runStep(
    step: StepRef,
    key: string,
    parent: readonly StoredLayer[],
    prepared: PreparedStep,
    t0: number,
  ): Promise<{ layer: StoredLayer | undefined }> {
    const root = await StepRoot.open(this.o.store, this.run, parent);
    let layer: StoredLayer | undefined;
    try {
      await prepared.exec(root.merged);
      this.check();
      layer = await root.commit(this.o.signal);
    } catch (e) {
      await root.discard();
      this.o.onEvent?.({ type: 'step', step, status: 'error', durationMs: Date.now() - t0 });
      if (this.o.signal?.aborted) throw new BuildCanceledError();
      throw e;
    }
    if (layer) await (await this.lease()).add(layer.chainId);
    const layers = layer ? [...parent, layer] : [...parent];
    await this.cache.put(key, { layers, emptyLayer: !layer, created: Date.now(), description: step.text.split('\n')[0] ?? '' });
    this.o.onEvent?.({ type: 'step', step, status: 'done', durationMs: Date.now() - t0 });
    return { layer };
  }

  private async present(layers: readonly StoredLayer[]): Promise<boolean> {
    try {
      await Promise.all(this.o.store.layerDirs({ layers: [...layers] }).map((d) => access(d)));
      return true;
    } catch {
      return false;
    }
  }
}

/** Whether a cached step's layers are `parent` plus (unless it made none) one layer. */
export function onParent(hit: { layers: readonly StoredLayer[]; emptyLayer: boolean }, parent: readonly StoredLayer[]): boolean {
  const below = hit.emptyLayer ? hit.layers : hit.layers.slice(0, -1);
  return below.length === parent.length && below.every((l, i) => l.chainId === parent[i]!.chainId) && (hit.emptyLayer || hit.layers.length > 0);
}

/** Builds a Dockerfile into the store (see Builder). */
export function buildImage(options: BuildOptions): Promise<BuildResult> {
  return new Builder(options).build();
}
