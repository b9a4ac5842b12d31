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

/**
 * Packs `context` for `POST /build`. With `dockerfileInline`, the content goes in as a uniquely named file at the
 * archive root and `dockerfile` points at it.
 */
export async function packContext(context: string, dockerfile = 'Dockerfile', dockerfileInline?: string): Promise<PackedContext> {
  const inlineName = dockerfileInline === undefined ? undefined : `.tscompose-inline-${randomBytes(6).toString('hex')}.Dockerfile`;
  const dfRel = path.isAbsolute(dockerfile) ? path.relative(context, dockerfile) : dockerfile;
  const patterns = await readDockerignore(context, inlineName === undefined ? dfRel : undefined);
  const always = inlineName ? ['.dockerignore'] : [dfRel, '.dockerignore'];
  const entries = await contextEntries(context, patterns, always);
  const stream = tar.pack(context, {
    entries,
    // entries lists every path to send; stop tar-fs from descending into listed directories by itself
    ignore: () => true,
    ...(inlineName !== undefined
      ? {
          finalize: false,
          finish: (pack: { entry: (header: { name: string; mode: number; size?: number }, data: string) => unknown; finalize: () => void }) => {
            pack.entry({ name: inlineName, mode: 0o644 }, dockerfileInline!);
            pack.finalize();
          },
        }
      : {}),
  } as tar.PackOptions);
  return { tar: stream as unknown as Readable, dockerfile: inlineName ?? dfRel.split(path.sep).join('/') };
}
