/**
 * `tscompose watch` / `up --watch`: the loop of docker compose's `develop.watch` (`pkg/compose/watch.go`). One tree
 * watcher (src/lib/watch) over every trigger path of the selected services; each debounced batch is split per
 * service (./triggers.ts) and applied: `rebuild` builds the service's image and runs `up --no-deps` for it (the new
 * image recreates its containers), otherwise the files are synced into every running container of the service
 * (./sync.ts), then one restart, then the `sync+exec` commands. Services are handled one after the other, batches
 * never overlap, and a failure is reported and the loop goes on (compose logs and carries on too).
 *
 * What happened is reported as lines through `log` (the CLI prints them, a detached watcher writes them to its log).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { TsComposeError } from '../../errors.js';
import { loadDockerIgnore } from '../../lib/build/context/ignore.js';
import { watchTree, type TreeWatcher } from '../../lib/watch/tree-watcher.js';
import type { Project, ServiceConfig, WatchTrigger } from '../../project/types.js';
import { projectContainers } from '../containers.js';
import type { EngineContext } from '../events.js';
import { hookExec } from '../plan-hooks.js';
import { up, type UpOptions } from '../up.js';
import { syncToContainer } from './sync.js';
import {
  compileTrigger,
  containerPath,
  planServiceChanges,
  triggerIgnores,
  type CompiledTrigger,
  type ServiceChanges,
  type SyncedFile,
} from './triggers.js';

export interface WatchOptions {
  /** Services to watch (default: every service with `develop.watch`). */
  readonly services?: readonly string[] | undefined;
  /** What a rebuild's `up` gets besides its service, `--no-deps` and `build: always` (origin, disabled services…). */
  readonly upOptions?: UpOptions | undefined;
  /** `--prune`: remove dangling images after a rebuild. */
  readonly prune?: boolean | undefined;
  /** Debounce quiet period (ms); default 100 (50 split a `git checkout` into several batches on a loaded machine). */
  readonly debounceMs?: number | undefined;
  /** Lines saying what the watcher did. */
  readonly log: (line: string) => void;
}

export interface RunningWatch {
  /** The services watched. */
  readonly services: readonly string[];
  /** Stops watching; resolves when the batch in progress (if any) is done. */
  close(): Promise<void>;
}

const watchOf = (svc: ServiceConfig | undefined) => svc?.develop?.watch ?? [];

/** The services of `project` that can be watched among `services` (all when empty); throws when none. */
export function watchedServices(project: Project, services: readonly string[] = []): string[] {
  const names = services.length > 0 ? [...services] : Object.keys(project.services).sort();
  const out = names.filter((s) => watchOf(project.services[s]).length > 0);
  if (out.length === 0)
    throw new TsComposeError('TSC_WATCH', `none of the selected services is configured for watch, consider setting a 'develop' section`, {
      hint: 'add `develop: { watch: [{ path: ./src, action: sync, target: /app/src }] }` to the service to watch',
    });
  for (const s of out)
    for (const t of watchOf(project.services[s]))
      if ((t.action === 'sync' || t.action === 'sync+restart' || t.action === 'sync+exec') && !t.target)
        throw new TsComposeError('TSC_WATCH', `service "${s}": watch action ${t.action} on ${t.path} needs a target`);
      else if (t.action === 'rebuild' && !project.services[s]!.build)
        throw new TsComposeError('TSC_WATCH', `service "${s}": watch action rebuild on ${t.path} needs a build section`);
  return out;
}

/**
 * compose's `checkIfPathAlreadyBindMounted`: a sync trigger whose path lies in a bind mount's source needs no sync
 * (the container sees the host's files) and is left out, with a warning.
 */
function boundAlready(svc: ServiceConfig, t: WatchTrigger): boolean {
  if (!t.action.startsWith('sync')) return false;
  return (svc.volumes ?? []).some((v) => v.type === 'bind' && v.source !== undefined && (t.path === v.source || t.path.startsWith(`${v.source}/`)));
}

async function compileTriggers(project: Project, services: readonly string[], log: (line: string) => void): Promise<CompiledTrigger[]> {
  const out: CompiledTrigger[] = [];
  for (const s of services) {
    const svc = project.services[s]!;
    const context = svc.build?.context;
    const contextIgnore =
      context && path.isAbsolute(context)
        ? { context, ignore: await loadDockerIgnore(context, svc.build?.dockerfile).catch(() => undefined) }
        : undefined;
    watchOf(svc).forEach((t, i) => {
      if (boundAlready(svc, t)) return log(`path '${t.path}' also declared by a bind mount volume, this path won't be monitored!`);
      out.push(compileTrigger(s, i, t, contextIgnore?.ignore ? { context: contextIgnore.context, ignore: contextIgnore.ignore } : undefined));
    });
  }
  return out;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Applies one service's changes; throws on failure (the caller reports it). */
async function applyChanges(ctx: EngineContext, project: Project, c: ServiceChanges, options: WatchOptions): Promise<void> {
  const { log } = options;
  if (c.rebuild) {
    log(`Rebuilding service "${c.service}" after ${plural(c.count, 'change')} ${c.count === 1 ? 'was' : 'were'} detected`);
    await up(ctx, project, { ...options.upOptions, services: [c.service], noDeps: true, build: 'always' });
    log(`service "${c.service}" rebuilt and recreated`);
    if (options.prune) {
      const r = await ctx.runtime.pruneImages({ signal: ctx.signal });
      if (r.deleted.length > 0) log(`pruned ${plural(r.deleted.length, 'dangling image')}`);
    }
    return;
  }
  const containers = (await projectContainers(ctx.runtime, project.name, { services: [c.service], runningOnly: true, signal: ctx.signal })).map(
    (x) => x.id,
  );
  if (containers.length === 0) {
    log(`service "${c.service}": no running container, ${plural(c.count, 'change')} not applied`);
    return;
  }
  if (c.sync.length > 0 || c.remove.length > 0) {
    log(`Syncing service "${c.service}" after ${plural(c.count, 'change')} ${c.count === 1 ? 'was' : 'were'} detected`);
    await Promise.all(containers.map((id) => syncToContainer(ctx.runtime, id, c.sync, c.remove, { signal: ctx.signal })));
  }
  if (c.restart) {
    await Promise.all(containers.map((id) => ctx.runtime.restartContainer(id, { signal: ctx.signal })));
    log(`service "${c.service}" restarted`);
  }
  for (const hook of c.exec) {
    for (const id of containers) {
      // As a hook's exec (compose runs `exec` of a sync+exec trigger the same way), without a TTY.
      const r = await ctx.runtime.exec(id, hookExec(hook, { ...project.services[c.service], tty: false }), { signal: ctx.signal });
      for (const line of `${r.stdout}${r.stderr}`.split('\n').filter((l) => l !== '')) log(`${c.service} -> | ${line}`);
      if (r.exitCode !== 0) throw new Error(`exec ${JSON.stringify(hook.command.join(' '))} exited with status ${r.exitCode}`);
    }
  }
}

/** Every file under `root` (or `root` itself) the trigger takes, modified after `since` (ms). */
async function filesNewerThan(t: CompiledTrigger, root: string, since: number): Promise<string[]> {
  const st = await fs.lstat(root).catch(() => undefined);
  if (!st) return [];
  if (!st.isDirectory()) return !triggerIgnores(t, root) && st.mtimeMs > since ? [root] : [];
  if (triggerIgnores(t, root, true)) return [];
  const out: string[] = [];
  for (const e of await fs.readdir(root, { withFileTypes: true }).catch(() => []))
    out.push(...(await filesNewerThan(t, path.join(root, e.name), since)));
  return out;
}

/**
 * `initial_sync`: before watching, the files of each sync trigger with `initial_sync: true` changed since the
 * service's oldest running container was created are copied in (what was edited while nobody watched).
 */
async function initialSync(ctx: EngineContext, project: Project, triggers: readonly CompiledTrigger[], log: (l: string) => void): Promise<void> {
  for (const t of triggers) {
    if (!t.trigger.initial_sync || !t.trigger.action.startsWith('sync')) continue;
    const containers = await projectContainers(ctx.runtime, project.name, { services: [t.service], runningOnly: true, signal: ctx.signal });
    if (containers.length === 0) continue;
    const since = Math.min(...containers.map((c) => c.created)) * 1000;
    const files: SyncedFile[] = (await filesNewerThan(t, t.trigger.path, since)).map((f) => ({ host: f, container: containerPath(t.trigger, f) }));
    if (files.length === 0) continue;
    log(`Initial sync of service "${t.service}": ${plural(files.length, 'file')} from ${t.trigger.path}`);
    await Promise.all(containers.map((c) => syncToContainer(ctx.runtime, c.id, files, [], { signal: ctx.signal })));
  }
}

/** Starts watching; resolves once the watches are in place (a write after that is seen). */
export async function startWatch(ctx: EngineContext, project: Project, options: WatchOptions): Promise<RunningWatch> {
  const services = watchedServices(project, options.services);
  const triggers = await compileTriggers(project, services, options.log);
  await initialSync(ctx, project, triggers, options.log);
  const roots = [...new Set(triggers.map((t) => t.trigger.path))];
  let watcher: TreeWatcher | undefined;
  const onBatch = async (batch: { readonly changed: readonly string[]; readonly removed: readonly string[] }): Promise<void> => {
    for (const changes of planServiceChanges(triggers, batch)) {
      if (ctx.signal?.aborted) return;
      try {
        await applyChanges(ctx, project, changes, options);
      } catch (e) {
        if (ctx.signal?.aborted) return;
        options.log(`Error: service "${changes.service}": ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  };
  watcher = await watchTree(roots, onBatch, {
    debounceMs: options.debounceMs ?? 100,
    // Directories every trigger on them ignores are not even watched.
    ignore: (abs, isDir) => triggers.every((t) => triggerIgnores(t, abs, isDir)),
    onError: (e) => options.log(`Error: ${e.message}`),
  });
  options.log(`Watch enabled for ${services.map((s) => `"${s}"`).join(', ')}`);
  return {
    services,
    async close() {
      await watcher?.close();
      watcher = undefined;
    },
  };
}
