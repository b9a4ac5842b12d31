/**
 * `develop.watch`, the pure part: which of a batch of changed host paths each trigger takes, and what then happens to
 * the service (docker compose `pkg/compose/watch.go`: a path belongs to the first trigger whose `path` contains it,
 * after the service's `.dockerignore` (its build context's, relative to the context), the trigger's `ignore`
 * (.dockerignore syntax, relative to the trigger's path) and its `include` (when given, only matching paths); `.git`
 * and editors' temporary files never count).
 *
 * What a service does with a batch ({@link planServiceChanges}): a `rebuild` trigger hit means a rebuild and nothing
 * else (the new container gets every file anyway); otherwise the `sync*` triggers' files are copied and their
 * deletions removed, then one restart if a `restart` or `sync+restart` trigger was hit, then each hit `sync+exec`
 * trigger's command. Container paths are `target` joined with the path relative to the trigger's `path`.
 */
import path from 'node:path';
import { DockerIgnore } from '../../lib/build/context/ignore.js';
import { isEphemeral } from '../../lib/watch/ephemeral.js';
import type { ServiceHook, WatchTrigger } from '../../project/types.js';

/** A trigger with its matchers compiled. */
export interface CompiledTrigger {
  readonly service: string;
  readonly index: number;
  readonly trigger: WatchTrigger;
  /** `.dockerignore` of the service's build context, and that context (absolute). */
  readonly contextIgnore?: { readonly context: string; readonly ignore: DockerIgnore } | undefined;
  readonly ignore: DockerIgnore;
  readonly include?: DockerIgnore | undefined;
}

export function compileTrigger(
  service: string,
  index: number,
  trigger: WatchTrigger,
  contextIgnore?: { readonly context: string; readonly ignore: DockerIgnore },
): CompiledTrigger {
  return {
    service,
    index,
    trigger,
    contextIgnore,
    ignore: new DockerIgnore(trigger.ignore ?? []),
    include: trigger.include && trigger.include.length > 0 ? new DockerIgnore(trigger.include) : undefined,
  };
}

const within = (root: string, p: string): boolean => p === root || p.startsWith(root.endsWith('/') ? root : `${root}/`);

/**
 * Whether the trigger never looks at `abs` (a host path under its `path`): ignored by the build context's
 * `.dockerignore` or the trigger's `ignore`, a `.git` directory, an editor's temp file, or not `include`d. For a
 * directory (`isDir`), `include` is not applied (files below it may match).
 */
export function triggerIgnores(t: CompiledTrigger, abs: string, isDir = false): boolean {
  const root = t.trigger.path;
  if (!within(root, abs)) return true;
  const rel = path.relative(root, abs);
  if (rel !== '' && rel.split('/').includes('.git')) return true;
  if (isEphemeral(path.basename(abs))) return true;
  if (t.contextIgnore && within(t.contextIgnore.context, abs)) {
    const crel = path.relative(t.contextIgnore.context, abs);
    if (crel !== '' && t.contextIgnore.ignore.ignores(crel)) return true;
  }
  if (rel === '') return false;
  if (t.ignore.ignores(rel)) return true;
  if (t.include && !isDir && !t.include.ignores(rel)) return true;
  return false;
}

/** Where a host path of the trigger lands in the container (`target` + the path relative to the trigger's `path`). */
export function containerPath(t: WatchTrigger, abs: string): string {
  const rel = path.relative(t.path, abs);
  return path.posix.join(t.target ?? '/', rel);
}

export interface SyncedFile {
  readonly host: string;
  readonly container: string;
}

/** What one service does with one batch. */
export interface ServiceChanges {
  readonly service: string;
  /** A `rebuild` trigger was hit: rebuild and recreate; nothing else is done. */
  readonly rebuild: boolean;
  readonly sync: readonly SyncedFile[];
  /** Container paths to remove. */
  readonly remove: readonly string[];
  readonly restart: boolean;
  /** The `sync+exec` triggers hit, in file order: their commands, each run once. */
  readonly exec: readonly ServiceHook[];
  /** How many host paths this service took (for messages). */
  readonly count: number;
}

/**
 * The first trigger of each service that takes `abs` (compose: triggers are tried in order, the first whose path
 * contains the file and does not ignore it wins).
 */
function takers(triggers: readonly CompiledTrigger[], abs: string): CompiledTrigger[] {
  const seen = new Set<string>();
  const out: CompiledTrigger[] = [];
  for (const t of triggers) {
    if (seen.has(t.service) || triggerIgnores(t, abs)) continue;
    seen.add(t.service);
    out.push(t);
  }
  return out;
}

/** The changes of a batch, per service (services with nothing to do are left out), in service order. */
export function planServiceChanges(
  triggers: readonly CompiledTrigger[],
  batch: { readonly changed: readonly string[]; readonly removed: readonly string[] },
): ServiceChanges[] {
  interface Acc {
    rebuild: boolean;
    sync: SyncedFile[];
    remove: string[];
    restart: boolean;
    exec: Map<number, ServiceHook>;
    count: number;
  }
  const by = new Map<string, Acc>();
  const acc = (s: string): Acc => {
    let a = by.get(s);
    if (!a) by.set(s, (a = { rebuild: false, sync: [], remove: [], restart: false, exec: new Map(), count: 0 }));
    return a;
  };
  const take = (abs: string, removed: boolean): void => {
    for (const t of takers(triggers, abs)) {
      const a = acc(t.service);
      a.count++;
      const { action } = t.trigger;
      if (action === 'rebuild') {
        a.rebuild = true;
        continue;
      }
      if (action === 'restart') {
        a.restart = true;
        continue;
      }
      const target = containerPath(t.trigger, abs);
      if (removed) a.remove.push(target);
      else a.sync.push({ host: abs, container: target });
      if (action === 'sync+restart') a.restart = true;
      if (action === 'sync+exec' && t.trigger.exec && !a.exec.has(t.index)) a.exec.set(t.index, t.trigger.exec);
    }
  };
  for (const p of batch.changed) take(p, false);
  for (const p of batch.removed) take(p, true);
  return [...by.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([service, a]) =>
      a.rebuild
        ? { service, rebuild: true, sync: [], remove: [], restart: false, exec: [], count: a.count }
        : { service, rebuild: false, sync: a.sync, remove: a.remove, restart: a.restart, exec: [...a.exec.values()], count: a.count },
    );
}
