/**
 * The detached watcher of `up -d --watch`: a `tscompose watch --no-up` process that belongs to the project and
 * outlives the command (docker compose cannot do this: docker/compose#11344). Its files live in the backend's
 * directory for the project (Runtime.projectLocalDir, beside the project's lock):
 *   watch.lock/   a lock (src/lib/fs/lock.ts) the watcher holds for its whole life: its pid file says who runs, and a
 *                 second watcher finds it taken and leaves (so a second `up -d --watch` never makes two);
 *   watch.json    what it watches and since when;
 *   watch.log     what it did, one `<RFC 3339 time> <text>` line each (`logs` shows them as `watch | …`).
 * `ps` and `ls` show a running watcher, `down` stops it (SIGTERM, then SIGKILL after 10 s).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { TsComposeError } from '../errors.js';
import { stableStringify } from '../project/hash.js';
import type { Project } from '../project/types.js';
import { lockHolder, LockTimeoutError, withLock } from '../lib/fs/lock.js';
import type { Runtime } from '../runtime/runtime.js';
import type { CommandContext } from './context.js';

export interface WatcherFiles {
  readonly dir: string;
  readonly lock: string;
  readonly record: string;
  readonly log: string;
}

export interface WatcherInfo {
  readonly pid: number;
  readonly started: string;
  readonly services: readonly string[];
  /** What it watches, as watchKey says: a watcher with another key watches an older configuration. */
  readonly key: string;
  readonly log: string;
}

export function watcherFiles(runtime: Pick<Runtime, 'projectLocalDir'>, project: string): WatcherFiles {
  const dir = runtime.projectLocalDir(project);
  return { dir, lock: path.join(dir, 'watch.lock'), record: path.join(dir, 'watch.json'), log: path.join(dir, 'watch.log') };
}

/** Whether `pid` is a live detached watcher (not a process that reused the number). */
function isWatcher(pid: number): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.includes('watch') && argv.includes('--detached-child');
  } catch {
    return false;
  }
}

/** The project's running detached watcher, if any. */
export function watcherStatus(runtime: Pick<Runtime, 'projectLocalDir'>, project: string): WatcherInfo | undefined {
  const files = watcherFiles(runtime, project);
  const pid = lockHolder(files.lock);
  if (pid === undefined || !isWatcher(pid)) return undefined;
  let record: { started?: string; services?: string[]; key?: string } = {};
  try {
    record = JSON.parse(readFileSync(files.record, 'utf8')) as typeof record;
  } catch {
    // starting: the record comes right after the lock
  }
  return { pid, started: record.started ?? '', services: record.services ?? [], key: record.key ?? '', log: files.log };
}

/** The global options that make a child CLI see the same project. */
export function globalArgs(ctx: CommandContext, project: string): string[] {
  const g = ctx.globals;
  const out: string[] = [];
  for (const f of g.file ?? []) out.push('-f', path.resolve(f));
  if (g.projectDirectory) out.push('--project-directory', path.resolve(g.projectDirectory));
  for (const f of g.envFile ?? []) out.push('--env-file', path.resolve(f));
  for (const p of g.profile ?? []) out.push('--profile', p);
  if (g.runtime) out.push('--runtime', g.runtime);
  out.push('-p', project);
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts the detached watcher unless one runs with the same `key` (one with another key, an older configuration,
 * is stopped first: `restarted`); resolves once it holds its lock (so `ps` right after shows it). Throws with the
 * end of its log when it exits before that.
 */
export async function startDetachedWatcher(
  ctx: CommandContext,
  runtime: Runtime,
  project: string,
  services: readonly string[],
  key: string,
): Promise<{ readonly pid: number; readonly already: boolean; readonly restarted: boolean }> {
  const running = watcherStatus(runtime, project);
  if (running && running.key === key) return { pid: running.pid, already: true, restarted: false };
  if (running) await stopDetachedWatcher(runtime, project);
  const files = watcherFiles(runtime, project);
  await fs.mkdir(files.dir, { recursive: true, mode: 0o700 });
  const log = openSync(files.log, 'a', 0o600);
  let exited: number | null | undefined;
  try {
    const child = spawn(
      process.execPath,
      [...process.execArgv, process.argv[1]!, '--', ...globalArgs(ctx, project), 'watch', '--no-up', '--detached-child', ...services],
      {
        detached: true,
        stdio: ['ignore', log, log],
        cwd: process.cwd(),
      },
    );
    child.on('exit', (code) => (exited = code));
    child.unref();
    for (let waited = 0; waited < 15_000; waited += 50) {
      const now = watcherStatus(runtime, project);
      if (now) return { pid: now.pid, already: now.pid !== child.pid, restarted: running !== undefined };
      if (exited !== undefined) break;
      await sleep(50);
    }
  } finally {
    closeSync(log);
  }
  const tail = (await fs.readFile(files.log, 'utf8').catch(() => '')).trimEnd().split('\n').slice(-5).join('\n');
  throw new TsComposeError('TSC_WATCH', `the detached watcher did not start${tail ? `:\n${tail}` : ''}`, { hint: `its log: ${files.log}` });
}

/**
 * In the detached watcher: holds the project's watcher lock while `fn` runs; when another watcher holds it,
 * resolves `false` at once without running `fn`.
 */
export async function asDetachedWatcher(
  runtime: Runtime,
  project: string,
  services: readonly string[],
  key: string,
  fn: () => Promise<void>,
): Promise<boolean> {
  const files = watcherFiles(runtime, project);
  await fs.mkdir(files.dir, { recursive: true, mode: 0o700 });
  try {
    await withLock(
      files.lock,
      async () => {
        await fs.writeFile(files.record, `${JSON.stringify({ pid: process.pid, started: new Date().toISOString(), services, key })}\n`, {
          mode: 0o600,
        });
        await fn();
      },
      { timeoutMs: 0 },
    );
    return true;
  } catch (e) {
    if (e instanceof LockTimeoutError) return false;
    throw e;
  }
}

/** Stops the project's detached watcher; resolves its pid, or undefined when none ran. */
export async function stopDetachedWatcher(runtime: Pick<Runtime, 'projectLocalDir'>, project: string): Promise<number | undefined> {
  const w = watcherStatus(runtime, project);
  if (!w) return undefined;
  const signal = (s: NodeJS.Signals): void => {
    try {
      process.kill(w.pid, s);
    } catch {
      // gone already
    }
  };
  signal('SIGTERM');
  for (let waited = 0; waited < 10_000 && isWatcher(w.pid); waited += 25) await sleep(25);
  if (isWatcher(w.pid)) signal('SIGKILL');
  for (let waited = 0; waited < 2_000 && isWatcher(w.pid); waited += 25) await sleep(25);
  return w.pid;
}

/** One line of the watcher's log (`<time> <text>`) → its parts. */
export function parseWatchLogLine(line: string): { readonly timestamp: string; readonly text: string } {
  const m = /^(\d{4}-\d\d-\d\dT[^ ]+) (.*)$/.exec(line);
  return m ? { timestamp: m[1]!, text: m[2]! } : { timestamp: '', text: line };
}

/** Removes the watcher's record and log (`down`: the project's logs go with its containers). */
export async function removeWatcherFiles(runtime: Pick<Runtime, 'projectLocalDir'>, project: string): Promise<void> {
  const files = watcherFiles(runtime, project);
  await Promise.all([fs.rm(files.log, { force: true }), fs.rm(files.record, { force: true })]);
  await fs.rmdir(files.dir).catch(() => undefined); // kept when something else is in it
}

/**
 * The watcher's log lines for `logs`: the last `tail` ones (all when undefined), then, with `follow`, new ones as
 * they are written until `signal` aborts. Nothing when the project never had a detached watcher.
 */
export async function readWatchLog(
  runtime: Pick<Runtime, 'projectLocalDir'>,
  project: string,
  onLine: (line: { readonly timestamp: string; readonly text: string }) => void,
  options: { readonly tail?: number | undefined; readonly follow?: boolean | undefined; readonly signal?: AbortSignal | undefined },
): Promise<void> {
  const { log } = watcherFiles(runtime, project);
  let offset = 0;
  let partial = '';
  const read = async (first: boolean): Promise<void> => {
    const text = await fs.readFile(log).catch(() => undefined);
    if (text === undefined || text.length <= offset) return;
    const chunk = partial + text.subarray(offset).toString('utf8');
    offset = text.length;
    const lines = chunk.split('\n');
    partial = lines.pop() ?? '';
    const shown = first && options.tail !== undefined ? lines.slice(Math.max(0, lines.length - options.tail)) : lines;
    for (const l of shown) if (l !== '') onLine(parseWatchLogLine(l));
  };
  await read(true);
  while (options.follow && !options.signal?.aborted) {
    await sleep(200);
    await read(false);
  }
}

/** What a watcher watches: the watched services' whole configuration (a rebuild uses all of it) and their names. */
export function watchKey(project: Project, services: readonly string[]): string {
  return createHash('sha256')
    .update(stableStringify(services.map((s) => [s, project.services[s]])))
    .digest('hex')
    .slice(0, 16);
}
