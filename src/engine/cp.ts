/**
 * `cp`: copy files between a service container and the local filesystem (`SERVICE:PATH` on one side), as tar
 * archives through the runtime (docker cp semantics: a destination that is an existing directory receives the
 * source under its own name; otherwise the source is renamed to the destination).
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-fs';
import { TsComposeError, UsageError } from '../errors.js';
import { isNotFound } from '../runtime/errors.js';
import { projectContainers, numberOf } from './containers.js';
import type { EngineContext } from './events.js';

export interface CpOptions {
  /** `--index`: container number (default 1). */
  readonly index?: number | undefined;
  /** `--all`: every container of the service (copying into containers). */
  readonly all?: boolean | undefined;
  /** Working directory for local paths. */
  readonly cwd?: string | undefined;
}

/** `service:path` → [service, path]; a local path → undefined. */
export function parseCpTarget(arg: string): [string, string] | undefined {
  const m = /^([a-zA-Z0-9][a-zA-Z0-9_.-]*):(.*)$/.exec(arg);
  if (!m || m[2] === '') return undefined;
  return [m[1]!, m[2]!];
}

async function targets(ctx: EngineContext, project: string, service: string, options: CpOptions): Promise<{ id: string; name: string }[]> {
  const list = await projectContainers(ctx.runtime, project, { services: [service], signal: ctx.signal });
  const chosen = options.all ? list : list.filter((c) => numberOf(c) === (options.index ?? 1));
  if (chosen.length === 0)
    throw new TsComposeError('TSC_NOT_FOUND', `service "${service}" has no container${options.index ? ` #${options.index}` : ''}`);
  return chosen;
}

export async function cp(ctx: EngineContext, project: string, source: string, destination: string, options: CpOptions = {}): Promise<void> {
  const src = parseCpTarget(source);
  const dst = parseCpTarget(destination);
  if ((src === undefined) === (dst === undefined)) throw new UsageError('cp needs exactly one of SOURCE and DESTINATION to be SERVICE:PATH');
  const cwd = options.cwd ?? process.cwd();

  if (dst) {
    const [service, path] = dst;
    const local = resolve(cwd, source);
    if (!existsSync(local)) throw new TsComposeError('TSC_NOT_FOUND', `no such file or directory: ${source}`);
    // Into an existing directory (or a path ending in /): keep the name; else rename to the destination's name.
    const intoDir = path.endsWith('/');
    for (const c of await targets(ctx, project, service, options)) {
      const attempt = async (dir: string, name: string): Promise<void> => {
        const archive = tar.pack(dirname(local), {
          entries: [basename(local)],
          map: (h) => ({ ...h, name: name + h.name.slice(basename(local).length) }),
        });
        await ctx.runtime.copyToContainer(c.id, dir, archive as unknown as Readable, { signal: ctx.signal });
      };
      if (intoDir) await attempt(path, basename(local));
      else {
        // Try as a directory first (docker cp into an existing directory); fall back to a rename.
        try {
          await attempt(path, basename(local));
        } catch (e) {
          if (!isNotFound(e) && !/not a directory/i.test((e as Error).message)) throw e;
          await attempt(dirname(path) || '/', basename(path));
        }
      }
    }
    return;
  }

  const [service, path] = src!;
  const [c] = await targets(ctx, project, service, { ...options, all: false });
  const archive = await ctx.runtime.copyFromContainer(c!.id, path, { signal: ctx.signal });
  const local = resolve(cwd, destination);
  const intoDir = existsSync(local) && statSync(local).isDirectory();
  const root = basename(path.replace(/\/+$/, '')) || '/';
  const dir = intoDir ? local : dirname(local);
  const name = intoDir ? root : basename(local);
  await pipeline(
    archive,
    tar.extract(dir, {
      map: (h) => {
        const rest = h.name.startsWith(root) ? h.name.slice(root.length) : `/${h.name}`;
        return { ...h, name: name + rest };
      },
    }),
  );
}
