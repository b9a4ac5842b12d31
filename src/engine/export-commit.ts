/**
 * `export` and `commit` (docker compose pkg/compose/export.go, commit.go): the service's container — running ones
 * only, one-off (`run`) containers too but after the service's own, `--index` picking the container number — and
 * then the runtime's export (its filesystem as a tar, written to a file atomically or to a stream) or commit (an
 * image of its changes). Progress as compose reports it: `Exporting`/`Exported`, `Committing`/`Committed as <id>`.
 */
import { createWriteStream, promises as fs, statSync } from 'node:fs';
import * as path from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TsComposeError } from '../errors.js';
import type { CommitOptions, ContainerSummary } from '../runtime/runtime.js';
import { isOneoff, numberOf, projectContainers } from './containers.js';
import { done, working, type EngineContext } from './events.js';

/** The container compose's getSpecifiedContainer picks: running, by number, one-offs last; `index` a number. */
export async function specifiedContainer(ctx: EngineContext, project: string, service: string, index?: number): Promise<ContainerSummary> {
  const list = (await projectContainers(ctx.runtime, project, { services: [service], oneoff: true, runningOnly: true, signal: ctx.signal }))
    .filter((c) => index === undefined || numberOf(c) === index)
    .sort((a, b) => Number(isOneoff(a)) - Number(isOneoff(b)) || numberOf(a) - numberOf(b));
  const c = list[0];
  if (!c) {
    throw new TsComposeError(
      'TSC_NOT_RUNNING',
      index === undefined ? `service "${service}" is not running` : `service "${service}" is not running container #${index}`,
    );
  }
  return c;
}

/** docker's ValidateOutputPath: the file's directory must exist; the path must not be a directory. */
export function validateOutputPath(file: string): void {
  const dir = path.dirname(path.normalize(file));
  if (dir !== '.' && dir !== '') {
    try {
      statSync(dir);
    } catch {
      throw new TsComposeError('TSC_OUTPUT_PATH', `failed to export container: invalid output path: directory "${dir}" does not exist`);
    }
  }
  const st = (() => {
    try {
      return statSync(file);
    } catch {
      return undefined;
    }
  })();
  if (st?.isDirectory()) throw new TsComposeError('TSC_OUTPUT_PATH', `failed to export container: invalid output path: "${file}" is a directory`);
}

export interface ExportOptions {
  readonly index?: number | undefined;
  /** The file to write (created 0600, replaced atomically); none: `stdout`. */
  readonly output?: string | undefined;
  /** Where the tar goes without `output`. */
  readonly stdout?: Writable | undefined;
  /** Pick the container and report, write nothing (`--dry-run`). */
  readonly dryRun?: boolean | undefined;
}

/** `export SERVICE`: the container's filesystem as a tar into `output` (or `stdout`). */
export async function exportService(ctx: EngineContext, project: string, service: string, options: ExportOptions): Promise<void> {
  const c = await specifiedContainer(ctx, project, service, options.index);
  if (options.output !== undefined) validateOutputPath(options.output);
  const resource = `Container ${c.name}`;
  ctx.events.emit(working(resource, 'Exporting'));
  if (!options.dryRun) {
    const archive = await ctx.runtime.exportContainer(c.id, { signal: ctx.signal });
    const signal = ctx.signal ? { signal: ctx.signal } : {};
    if (options.output === undefined) {
      if (!options.stdout) throw new TsComposeError('TSC_OUTPUT_PATH', 'export: no output');
      await pipeline(archive, options.stdout, { ...signal, end: false });
    } else {
      // atomically, as docker's atomicwriter: a temporary file beside the target, renamed over it when complete
      const tmp = path.join(path.dirname(options.output), `.${path.basename(options.output)}.${process.pid}.tmp`);
      try {
        await pipeline(archive, createWriteStream(tmp, { mode: 0o600 }), signal);
        await fs.rename(tmp, options.output);
      } catch (e) {
        await fs.rm(tmp, { force: true });
        throw e;
      }
    }
  }
  ctx.events.emit(done(resource, 'Exported'));
}

export interface CommitServiceOptions extends Omit<CommitOptions, 'signal'> {
  readonly index?: number | undefined;
  readonly dryRun?: boolean | undefined;
}

/** `commit SERVICE [REPOSITORY[:TAG]]`: an image of the container's changes; its id (undefined with `dryRun`). */
export async function commitService(
  ctx: EngineContext,
  project: string,
  service: string,
  options: CommitServiceOptions,
): Promise<string | undefined> {
  const c = await specifiedContainer(ctx, project, service, options.index);
  const resource = `Container ${c.name}`;
  ctx.events.emit(working(resource, 'Committing'));
  if (options.dryRun) {
    ctx.events.emit(done(resource, 'Committed'));
    return undefined;
  }
  const { index: _index, dryRun: _dryRun, ...commit } = options;
  const { id } = await ctx.runtime.commitContainer(c.id, { ...commit, signal: ctx.signal });
  ctx.events.emit(done(resource, `Committed as ${id}`));
  return id;
}
