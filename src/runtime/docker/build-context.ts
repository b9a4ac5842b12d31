/**
 * Build contexts for the Docker path: the context directory packed with tar-fs, honouring the ignore file as
 * BuildKit reads it (lib/build/context: `<Dockerfile>.dockerignore` first, else `.dockerignore`; case-sensitive
 * patterns with `!` exceptions), always including the Dockerfile and `.dockerignore` themselves;
 * `dockerfile_inline` content added as an extra file.
 */
import { randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import tar from 'tar-fs';
import { DockerIgnore, readIgnoreFile } from '../../lib/build/context/ignore.js';

/** The ignore patterns of a build (none when there is no ignore file); `dockerfile` relative to the context. */
export async function readDockerignore(context: string, dockerfile?: string): Promise<string[]> {
  return (await readIgnoreFile(context, dockerfile)).patterns;
}

/**
 * The relative (posix) paths to send, directories before their contents, sorted. `always` are added even when
 * ignored (the Dockerfile, `.dockerignore`). Ignored directories are not descended into unless an exception
 * pattern (`!…`) could re-include something below them.
 */
export async function contextEntries(context: string, patterns: readonly string[], always: readonly string[] = []): Promise<string[]> {
  const ig = new DockerIgnore(patterns);
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(path.join(context, rel), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      const ignored = ig.ignores(child);
      if (e.isDirectory()) {
        if (!ignored) out.push(child);
        if (!ignored || ig.mayIncludeBelow(child)) await walk(child);
      } else if (!ignored) {
        out.push(child);
      }
    }
  };
  await walk('');
  for (const a of always) {
    const rel = a.split(path.sep).join('/').replace(/^\.\//, '');
    if (!out.includes(rel)) {
      try {
        await readFile(path.join(context, rel));
        out.push(rel);
      } catch {
        // missing: the engine will say so
      }
    }
  }
  return out;
}

export interface PackedContext {
  readonly tar: Readable;
  /** The Dockerfile path to pass to the engine (relative to the context). */
  readonly dockerfile: string;
}

/** A file added to the archive that is not in the context directory (heredoc bodies, see buildkit-heredoc.ts). */
export interface ExtraFile {
  /** Relative (posix) path in the archive; its parent directories are added too. */
  readonly path: string;
  readonly content: string;
  readonly mode: number;
}

export interface PackOptions {
  /** Files added to the archive (after the context's own). */
  readonly files?: readonly ExtraFile[] | undefined;
  /**
   * `dockerfileInline` is a rewrite of the context's `dockerfile` (not compose `dockerfile_inline`): the ignore
   * file is still looked up as `<dockerfile>.dockerignore` first.
   */
  readonly rewritten?: boolean | undefined;
}

type TarPack = {
  entry: (header: { name: string; mode: number; type?: 'file' | 'directory'; size?: number }, data?: string) => unknown;
  finalize: () => void;
};

/**
 * Packs `context` for `POST /build`. With `dockerfileInline`, the content goes in as a uniquely named file at the
 * archive root and `dockerfile` points at it.
 */
export async function packContext(
  context: string,
  dockerfile = 'Dockerfile',
  dockerfileInline?: string,
  options: PackOptions = {},
): Promise<PackedContext> {
  const inlineName = dockerfileInline === undefined ? undefined : `.tscompose-inline-${randomBytes(6).toString('hex')}.Dockerfile`;
  const dfRel = path.isAbsolute(dockerfile) ? path.relative(context, dockerfile) : dockerfile;
  const patterns = await readDockerignore(context, inlineName === undefined || options.rewritten ? dfRel : undefined);
  const always = inlineName ? ['.dockerignore'] : [dfRel, '.dockerignore'];
  const entries = await contextEntries(context, patterns, always);
  const files = options.files ?? [];
  const extra = inlineName !== undefined || files.length > 0;
  const stream = tar.pack(context, {
    entries,
    // entries lists every path to send; stop tar-fs from descending into listed directories by itself
    ignore: () => true,
    ...(extra
      ? {
          finalize: false,
          finish: (pack: TarPack) => {
            if (inlineName !== undefined) pack.entry({ name: inlineName, mode: 0o644 }, dockerfileInline);
            const dirs = new Set<string>();
            for (const f of files) {
              const parts = f.path.split('/').slice(0, -1);
              for (let i = 1; i <= parts.length; i++) {
                const dir = parts.slice(0, i).join('/');
                if (dirs.has(dir)) continue;
                dirs.add(dir);
                pack.entry({ name: dir, mode: 0o755, type: 'directory' });
              }
              pack.entry({ name: f.path, mode: f.mode }, f.content);
            }
            pack.finalize();
          },
        }
      : {}),
  } as tar.PackOptions);
  return { tar: stream as unknown as Readable, dockerfile: inlineName ?? dfRel.split(path.sep).join('/') };
}
