/**
 * The filesystem steps of a stage: RUN (a process over the parent's layers, run by the worker), COPY/ADD (files from
 * the context, another stage, an image, a named context, a heredoc or a URL, written by fileops.ts) and WORKDIR
 * (the directory made). Each one first computes its cache key (cache.ts stepKey) from what decides its result, and
 * returns it with a function that does the work in a StepRoot; builder.ts looks the key up and calls it on a miss.
 */
import { randomBytes } from 'node:crypto';
import { chown, copyFile, mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { StoredLayer } from '../../image/records.js';
import { hashFile, hashSelection, type FileHashCache } from '../context/hash.js';
import { parseChmod, parseChown, selectCopy, type CopyEntry, type Owner } from '../context/select.js';
import { runCommandLine } from '../dockerfile/dispatch.js';
import type { CopyInstruction, RunInstruction } from '../dockerfile/instructions.js';
import { sha256 } from '../../image/digest.js';
import { mountOverlay } from '../../fs/mounts.js';
import { BuildUnsupportedError, RunStepError } from './errors.js';
import { applyCopy, extractIfArchive, fetchUrl, makeWorkdir, resolveInRoot, writeInlineFiles } from './fileops.js';
import { shellOf, type ConfigState } from './image-config.js';
import { mountView, scratchFile, type RunDir } from './rootfs.js';
import type { BuildOptions, RunMount, StepRef } from './types.js';

/** The state of a stage between steps. */
export interface StageState {
  /** Bottom → top. */
  layers: StoredLayer[];
  /** The cache key of the filesystem so far (the base image id, then each step's key). */
  key: string;
  cfg: ConfigState;
}

/** Where `COPY --from` / `RUN --mount=from=` read: another stage's final state, an image's layers, or a directory. */
export type SourceRef =
  { readonly kind: 'state'; readonly layers: readonly StoredLayer[]; readonly key: string } | { readonly kind: 'dir'; readonly dir: string };

export interface StepContext {
  readonly options: BuildOptions;
  readonly run: RunDir;
  readonly hashes: FileHashCache;
  readonly step: StepRef;
  /** What a `from=` names (stage, image or named context), resolved by builder.ts. */
  readonly source: (from: string) => Promise<SourceRef>;
}

/** A step ready to run: its cache key, and the work to do in a mounted root on a miss. */
export interface PreparedStep {
  readonly key: string;
  readonly exec: (root: string) => Promise<void>;
}

const LAST_LINES = 10;

function userOf(s: StageState): string {
  return s.cfg.config.User ?? '';
}
function cwdOf(s: StageState): string {
  return s.cfg.config.WorkingDir || '/';
}

/** WORKDIR: the directory made (owned by the stage's user, as BuildKit's mkdir WithUser). */
export function prepareWorkdir(ctx: StepContext, s: StageState): PreparedStep {
  const dir = cwdOf(s);
  return {
    key: `WORKDIR\0${dir}\0${userOf(s)}`,
    exec: async (root) => {
      const owner = userOf(s) === '' ? { uid: 0, gid: 0 } : await ctx.options.worker.resolveUser(root, userOf(s));
      await makeWorkdir(root, dir, owner);
    },
  };
}

/** The destination of a COPY/ADD: relative ones join WORKDIR; a trailing `/` (or `.`) is kept. */
export function copyDest(dest: string, workdir: string): string {
  const dirLike = dest.endsWith('/') || dest === '.' || dest.endsWith('/.');
  const abs = path.posix.resolve(workdir, dest);
  return dirLike && !abs.endsWith('/') ? `${abs}/` : abs;
}

const isUrl = (s: string): boolean => /^https?:\/\//i.test(s);

async function ownerIn(ctx: StepContext, root: string, chown: string | undefined): Promise<Owner | undefined> {
  if (chown === undefined || chown === '') return undefined;
  return parseChown(chown, async (user, group) => ctx.options.worker.resolveUser(root, group === undefined ? user : `${user}:${group}`));
}

/** COPY/ADD. */
export async function prepareCopy(ctx: StepContext, s: StageState, inst: CopyInstruction): Promise<PreparedStep> {
  if (inst.exclude.length > 0 || inst.parents) {
    throw new BuildUnsupportedError(
      `${ctx.step.text.split('\n')[0]}: ${inst.kind} ${inst.parents ? '--parents' : '--exclude'} is not supported by the native builder yet`,
      {
        hint: 'build this Dockerfile with --runtime docker (a Docker Engine with BuildKit ≥ 0.12 and the labs Dockerfile syntax)',
      },
    );
  }
  const dest = copyDest(inst.dest, cwdOf(s));
  const chmod = inst.chmod !== undefined && inst.chmod !== '' ? parseChmod(inst.chmod) : undefined;
  const add = inst.kind === 'ADD';
  const urls = add ? inst.sources.filter(isUrl) : [];
  const locals = inst.sources.filter((x) => !urls.includes(x));
  const from = inst.from !== undefined && inst.from !== '' ? await ctx.source(inst.from) : undefined;
  const sourceDir = from?.kind === 'dir' ? from.dir : from === undefined ? ctx.options.context : undefined;
  const common = [inst.kind, dest, inst.chown ?? '', chmod ?? '', inst.heredocSources, inst.exclude, inst.unpack ?? ''];

  // what the sources are: hashed content from a directory, or the source state's key
  let contentKey: string;
  if (sourceDir !== undefined) {
    const ignore = from === undefined ? ctx.options.ignore : undefined;
    const entries =
      locals.length === 0
        ? []
        : await selectCopy({ context: sourceDir, sources: locals, dest, ignore, instruction: inst.kind, preserveOwner: from !== undefined });
    contentKey = await hashSelection(sourceDir, entries, { cache: ctx.hashes });
  } else {
    contentKey = `${from!.kind === 'state' ? from!.key : ''}\0${locals.join('\0')}`;
  }
  const fetched: { file: string; name: string; digest: string }[] = [];
  for (const url of urls) {
    const tmp = await ctx.run.fresh('fetch');
    const f = await fetchUrl(url, {
      tmpDir: tmp,
      ...(inst.checksum ? { checksum: inst.checksum } : {}),
      ...(ctx.options.signal ? { signal: ctx.options.signal } : {}),
    });
    fetched.push({ file: f.file, name: f.name, digest: await hashFile(f.file) });
  }

  return {
    key: sha256(JSON.stringify([...common, contentKey, fetched.map((f) => [f.name, f.digest])])),
    exec: async (root) => {
      const owner = await ownerIn(ctx, root, inst.chown);
      const read = sourceDir ?? (await mountView(ctx.options.store, ctx.run, (from as { layers: readonly StoredLayer[] }).layers));
      const destIsDir = await isDirIn(root, dest);
      const entries =
        locals.length === 0
          ? []
          : await selectCopy({
              context: read,
              sources: locals,
              dest,
              ignore: from === undefined ? ctx.options.ignore : undefined,
              destIsDir,
              chown: owner,
              chmod,
              preserveOwner: from !== undefined,
              instruction: inst.kind,
            });
      const plain = [];
      for (const e of entries) {
        // ADD extracts local archives (not with --unpack=false, not from URLs)
        if (add && inst.unpack !== false && e.type === 'file') {
          const into = dest.endsWith('/') || destIsDir ? path.posix.dirname(e.dest) : e.dest;
          if (await extractIfArchive(path.join(read, e.source), root, into, owner ?? {})) continue;
        }
        plain.push(e);
      }
      // one copy per matched source, as BuildKit (hard links are kept within a copied directory, not across matches)
      for (const group of byMatch(plain)) {
        await applyCopy(root, read, group, {
          ...(ctx.options.signal ? { signal: ctx.options.signal } : {}),
          ...(owner ? { chown: owner } : {}),
          ...(chmod !== undefined ? { chmod } : {}),
        });
      }
      if (inst.heredocSources.length > 0) {
        await writeInlineFiles(
          root,
          dest,
          inst.heredocSources.map((h) => ({ path: h.path, content: h.content })),
          { uid: owner?.uid ?? 0, gid: owner?.gid ?? 0, ...(chmod !== undefined ? { mode: chmod } : {}) },
        );
      }
      for (const f of fetched) {
        const target = dest.endsWith('/') || destIsDir ? path.posix.join(dest, f.name) : dest;
        const entry = {
          source: path.basename(f.file),
          dest: target,
          type: 'file' as const,
          mode: chmod ?? 0o600,
          uid: owner?.uid ?? 0,
          gid: owner?.gid ?? 0,
          size: 0,
        };
        await applyCopy(root, path.dirname(f.file), [entry], { ...(owner ? { chown: owner } : {}), ...(chmod !== undefined ? { chmod } : {}) });
      }
    },
  };
}

/** selectCopy's entries split by matched source: a directory with what is below it, or a single file or link. */
function byMatch(entries: readonly CopyEntry[]): CopyEntry[][] {
  const groups: CopyEntry[][] = [];
  let dir: string | undefined;
  for (const e of entries) {
    const below = dir !== undefined && (dir === '.' || e.source.startsWith(`${dir}/`));
    if (below) groups[groups.length - 1]!.push(e);
    else {
      groups.push([e]);
      dir = e.type === 'dir' && e.sourceRoot ? e.source : undefined;
    }
  }
  return groups;
}

async function isDirIn(root: string, p: string): Promise<boolean> {
  try {
    return (await stat(await resolveInRoot(root, p))).isDirectory();
  } catch {
    return false;
  }
}

/** RUN. */
export async function prepareRun(ctx: StepContext, s: StageState, inst: RunInstruction, env: readonly string[]): Promise<PreparedStep> {
  const o = ctx.options;
  const line = runCommandLine(inst, shellOf(s.cfg.config));
  const network = inst.network ?? o.network ?? 'default';
  const mountKeys: unknown[] = [];
  const plan: ((root: string) => Promise<RunMount[]>)[] = [];
  const secretEnv: string[] = [];
  for (const m of inst.mounts) {
    switch (m.type) {
      case 'bind': {
        const src = m.from === '' ? ({ kind: 'dir', dir: o.context } as const) : await ctx.source(m.from);
        const srcKey =
          src.kind === 'dir'
            ? await hashSelection(
                src.dir,
                await selectCopy({ context: src.dir, sources: [m.source || '.'], dest: '/x/', ignore: m.from === '' ? o.ignore : undefined }),
                {
                  cache: ctx.hashes,
                },
              )
            : src.key;
        mountKeys.push(['bind', m.target, m.source, m.readOnly, srcKey]);
        plan.push(async () => {
          const base = src.kind === 'dir' ? src.dir : await mountView(o.store, ctx.run, src.layers);
          const source = await resolveInRoot(base, `/${m.source}`);
          const target = path.posix.resolve(cwdOf(s), m.target);
          if (m.readOnly) return [{ type: 'bind', source, target, readOnly: true }];
          // `rw`: the step may write, its writes are thrown away (BuildKit): an overlay over a directory, a copy of a file
          const scratch = await ctx.run.fresh('rw-bind');
          if ((await stat(source)).isDirectory()) {
            await mountOverlay(path.join(scratch, 'merged'), {
              lowerdir: source,
              upper: path.join(scratch, 'upper'),
              work: path.join(scratch, 'work'),
            });
            return [{ type: 'bind', source: path.join(scratch, 'merged'), target, readOnly: false }];
          }
          await copyFile(source, path.join(scratch, 'file'));
          return [{ type: 'bind', source: path.join(scratch, 'file'), target, readOnly: false }];
        });
        break;
      }
      case 'cache': {
        mountKeys.push(['cache', m.id, m.target]);
        plan.push(async () => {
          const dir = path.join(o.workRoot, 'cache-mounts', sha256(m.id).slice(7, 39));
          await mkdir(dir, { recursive: true, mode: m.mode ?? 0o755 });
          if (m.uid !== undefined || m.gid !== undefined) await chown(dir, m.uid ?? 0, m.gid ?? 0);
          return [{ type: 'bind', source: dir, target: path.posix.resolve(cwdOf(s), m.target), readOnly: m.readOnly }];
        });
        break;
      }
      case 'tmpfs':
        mountKeys.push(['tmpfs', m.target]);
        plan.push(async () => [{ type: 'tmpfs', target: path.posix.resolve(cwdOf(s), m.target), readOnly: false }]);
        break;
      case 'secret': {
        const secret = o.secrets?.[m.id];
        if (!secret) {
          if (m.required) throw new BuildUnsupportedError(`${ctx.step.text}: secret ${m.id} not found (compose build.secrets gives them)`);
          break;
        }
        plan.push(async () => {
          const content = 'file' in secret ? await readFile(secret.file) : secret.content;
          if (m.env !== undefined) secretEnv.push(`${m.env}=${content.toString('utf8')}`);
          const f = await scratchFile(ctx.run, 'secret', content, m.mode ?? 0o400);
          await chown(f, m.uid ?? 0, m.gid ?? 0);
          // `env=` without a target: only the environment variable (BuildKit)
          return m.target === '' ? [] : [{ type: 'bind', source: f, target: m.target, readOnly: true }];
        });
        break;
      }
      case 'ssh':
        throw new BuildUnsupportedError(`${ctx.step.text}: RUN --mount=type=ssh is not supported by the native builder`);
    }
  }
  const command = line.args.join(' ');
  return {
    key: sha256(JSON.stringify(['RUN', line.args, line.script ?? null, env, userOf(s), cwdOf(s), network, mountKeys, o.extraHosts ?? []])),
    exec: async (root) => {
      const mounts: RunMount[] = [];
      for (const p of plan) mounts.push(...(await p(root)));
      if (line.script) {
        const f = await scratchFile(ctx.run, path.posix.basename(line.script.path), line.script.content, line.script.mode);
        mounts.push({ type: 'bind', source: f, target: line.script.path, readOnly: true });
      }
      const tail: string[] = [];
      let partial = '';
      const onOutput = (stream: 'stdout' | 'stderr', chunk: Buffer): void => {
        const text = chunk.toString('utf8');
        o.onEvent?.({ type: 'output', step: ctx.step, stream, text });
        const lines = (partial + text).split('\n');
        partial = lines.pop() ?? '';
        tail.push(...lines);
        if (tail.length > LAST_LINES) tail.splice(0, tail.length - LAST_LINES);
      };
      const code = await o.worker.run({
        id: randomBytes(16).toString('hex'),
        rootfs: root,
        args: line.args,
        env: [...env, ...secretEnv],
        cwd: cwdOf(s),
        user: userOf(s),
        network,
        mounts,
        extraHosts: o.extraHosts ?? [],
        shmSizeBytes: o.shmSizeBytes,
        onOutput,
        signal: o.signal,
      });
      if (code !== 0) {
        if (partial !== '') tail.push(partial);
        throw new RunStepError(`${ctx.step.text.split('\n')[0]}`, command, code, tail.slice(-LAST_LINES));
      }
    },
  };
}
