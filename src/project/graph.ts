/**
 * The dependency graph between services, generic over node names (service names in practice).
 *
 * Mirrors docker/compose `pkg/compose/dependencies.go`: `findCycle` ≈ `HasCycles` (but returns the path),
 * `traverse` ≈ `InDependencyOrder` / `InReverseDependencyOrder` (a node runs as soon as all its dependencies
 * — or, reversed, all its dependents — have finished; the parallelism cap comes from `--parallel` /
 * `COMPOSE_PARALLEL_LIMIT`, see {@link parallelLimit}).
 *
 * Edges to nodes that are not keys of the graph are ignored everywhere: callers drop missing non-`required`
 * dependencies before building the graph, and report missing required ones themselves.
 */
import { setMaxListeners } from 'node:events';
import PQueue from 'p-queue';
import toposort from 'toposort';
import { DependencyCycleError, UsageError } from '../errors.js';

/** node → the nodes it depends on. The nodes of the graph are its keys. */
export type DependencyGraph = ReadonlyMap<string, ReadonlySet<string>>;

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The known dependencies of `node`, sorted; edges to nodes outside `nodes` are dropped. */
function depsOf(graph: DependencyGraph, node: string, nodes: ReadonlySet<string> | DependencyGraph = graph): string[] {
  const deps = graph.get(node);
  if (!deps) return [];
  return [...deps].filter((d) => nodes.has(d)).sort(byName);
}

/**
 * A dependency cycle as a closed path (`['a', 'b', 'c', 'a']`; a self-dependency gives `['a', 'a']`), or
 * `undefined` when the graph is acyclic. Deterministic: nodes and edges are visited in name order, so the
 * cycle reported is the first one met from the smallest node name. Iterative, so long chains cannot
 * overflow the stack.
 */
export function findCycle(graph: DependencyGraph): string[] | undefined {
  return findCycleIn(graph, new Set(graph.keys()));
}

function findCycleIn(graph: DependencyGraph, nodes: ReadonlySet<string>): string[] | undefined {
  const DONE = 2;
  const ON_PATH = 1;
  const state = new Map<string, number>();
  for (const start of [...nodes].sort(byName)) {
    if (state.has(start)) continue;
    // Explicit DFS stack: each frame is a node and the index of its next edge to follow.
    const path: string[] = [start];
    const frames: { node: string; deps: string[]; next: number }[] = [{ node: start, deps: depsOf(graph, start, nodes), next: 0 }];
    state.set(start, ON_PATH);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      const dep = frame.deps[frame.next++];
      if (dep === undefined) {
        state.set(frame.node, DONE);
        frames.pop();
        path.pop();
        continue;
      }
      const s = state.get(dep);
      if (s === ON_PATH) return [...path.slice(path.indexOf(dep)), dep];
      if (s === DONE) continue;
      state.set(dep, ON_PATH);
      path.push(dep);
      frames.push({ node: dep, deps: depsOf(graph, dep, nodes), next: 0 });
    }
  }
  return undefined;
}

/**
 * Every node, dependencies first. The order is deterministic and level by level, like compose's
 * `InDependencyOrder` with equal start-up times: nodes without (known) dependencies first, then the nodes whose
 * longest dependency chain has length 1, and so on; names sorted within a level.
 * Throws {@link DependencyCycleError} (with the path from {@link findCycle}) when there is a cycle.
 */
export function dependencyOrder(graph: DependencyGraph): string[] {
  const cycle = findCycle(graph);
  if (cycle) throw new DependencyCycleError(cycle);
  const nodes = [...graph.keys()].sort(byName);
  const edges: [string, string][] = [];
  for (const node of nodes) for (const dep of depsOf(graph, node)) edges.push([dep, node]);
  // toposort: for an edge [u, v], u comes before v, so every dependency precedes its dependents.
  const topo = toposort.array(nodes, edges);
  const level = new Map<string, number>();
  for (const node of topo) {
    let l = 0;
    for (const dep of depsOf(graph, node)) l = Math.max(l, (level.get(dep) ?? 0) + 1);
    level.set(node, l);
  }
  return nodes.sort((a, b) => (level.get(a) ?? 0) - (level.get(b) ?? 0) || byName(a, b));
}

export interface TraverseOptions {
  /** Maximum number of visits running at once; `<= 0` or `undefined` = unlimited. */
  readonly concurrency?: number | undefined;
  /** Visit each node after all its dependents instead of after its dependencies (`stop`, `down`). */
  readonly reverse?: boolean | undefined;
  /** Aborting it stops the traversal like a failure would; the promise rejects with `signal.reason`. */
  readonly signal?: AbortSignal | undefined;
  /**
   * Visit only these nodes (names that are not nodes of the graph are ignored). Edges to nodes outside the
   * subset count as already done, and only cycles inside the subset matter.
   */
  readonly only?: Iterable<string> | undefined;
}

/**
 * Visits every node (or every node of `only`) once, each as soon as all its dependencies have finished (with
 * `reverse`: all its dependents), at most `concurrency` at a time. Nodes that become ready together are
 * queued in name order.
 *
 * On the first failure (a visit rejects, or `opts.signal` aborts) the shared signal handed to every visit is
 * aborted with that error, nothing new starts, visits already running are awaited, and the promise rejects
 * with the first error. A cycle rejects with {@link DependencyCycleError} before anything runs.
 */
export async function traverse(
  graph: DependencyGraph,
  visit: (node: string, signal: AbortSignal) => Promise<void>,
  opts: TraverseOptions = {},
): Promise<void> {
  const nodes = new Set<string>();
  if (opts.only === undefined) for (const n of graph.keys()) nodes.add(n);
  else for (const n of opts.only) if (graph.has(n)) nodes.add(n);

  const cycle = findCycleIn(graph, nodes);
  if (cycle) throw new DependencyCycleError(cycle);
  opts.signal?.throwIfAborted();
  if (nodes.size === 0) return;

  // waitsFor: node → how many nodes must finish before it; unblocks: node → the nodes waiting on it.
  const waitsFor = new Map<string, number>();
  const unblocks = new Map<string, string[]>();
  for (const n of nodes) {
    waitsFor.set(n, 0);
    unblocks.set(n, []);
  }
  for (const node of [...nodes].sort(byName)) {
    for (const dep of depsOf(graph, node, nodes)) {
      const [before, after] = opts.reverse ? [node, dep] : [dep, node];
      unblocks.get(before)!.push(after);
      waitsFor.set(after, waitsFor.get(after)! + 1);
    }
  }

  const controller = new AbortController();

  // One signal is shared by every call in flight (p-queue tasks, engine requests): no listener cap.

  setMaxListeners(0, controller.signal);
  const { signal } = controller;
  const concurrency = opts.concurrency !== undefined && opts.concurrency > 0 ? opts.concurrency : Infinity;
  const queue = new PQueue({ concurrency });

  return new Promise<void>((resolve, reject) => {
    let remaining = nodes.size;
    let running = 0;
    let failed = false;
    let firstError: unknown;

    const settle = (): void => {
      if (failed) {
        if (running === 0) {
          opts.signal?.removeEventListener('abort', onOuterAbort);
          reject(firstError);
        }
      } else if (remaining === 0) {
        opts.signal?.removeEventListener('abort', onOuterAbort);
        resolve();
      }
    };
    const fail = (error: unknown): void => {
      if (failed) return;
      failed = true;
      firstError = error;
      // Queued tasks carry `signal`, so p-queue drops them; running ones see it and are awaited.
      controller.abort(error);
    };
    function onOuterAbort(): void {
      fail(opts.signal?.reason);
      settle();
    }

    const run = async (node: string): Promise<void> => {
      running++;
      let ok = false;
      try {
        await visit(node, signal);
        ok = true;
      } catch (error) {
        fail(error);
      }
      running--;
      if (ok && !failed) {
        remaining--;
        for (const next of unblocks.get(node)!) {
          const left = waitsFor.get(next)! - 1;
          waitsFor.set(next, left);
          if (left === 0) schedule(next);
        }
      }
      settle();
    };
    const schedule = (node: string): void => {
      // The add() promise also rejects (with the abort reason) when the signal aborts; completion is tracked
      // by `run` itself, which keeps running visits awaited even after an abort.
      queue.add(() => run(node), { signal }).catch(() => undefined);
    };

    opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
    for (const node of [...nodes].sort(byName)) if (waitsFor.get(node) === 0) schedule(node);
  });
}

/**
 * The traversal parallelism: the `--parallel` flag when given (and not -1, its default in compose), else
 * `COMPOSE_PARALLEL_LIMIT` from `env`. Returns `undefined` for unlimited (-1, 0 or nothing set), a positive
 * integer otherwise; throws {@link UsageError} on a value that is not an integer.
 */
export function parallelLimit(
  flag: string | number | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): number | undefined {
  const fromFlag = flag === undefined ? undefined : parseLimit(String(flag), '--parallel');
  if (fromFlag !== undefined && fromFlag !== -1) return fromFlag > 0 ? fromFlag : undefined;
  const raw = env['COMPOSE_PARALLEL_LIMIT'];
  if (raw === undefined || raw.trim() === '') return undefined;
  const fromEnv = parseLimit(raw, 'COMPOSE_PARALLEL_LIMIT');
  return fromEnv > 0 ? fromEnv : undefined;
}

function parseLimit(raw: string, source: string): number {
  const text = raw.trim();
  if (!/^[+-]?\d+$/.test(text)) {
    throw new UsageError(`invalid ${source} value ${JSON.stringify(raw)}: expected an integer`, {
      hint: 'Use a positive number of parallel operations, or -1 for unlimited.',
    });
  }
  return Number(text);
}
