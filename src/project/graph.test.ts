import { describe, test, expect } from '@jest/globals';
import { DependencyCycleError, UsageError } from '../errors.js';
import { dependencyOrder, findCycle, parallelLimit, traverse, type DependencyGraph } from './graph.js';

/** Builds a graph from `{ node: [deps...] }`. */
function g(spec: Record<string, string[]>): DependencyGraph {
  return new Map(Object.entries(spec).map(([k, v]) => [k, new Set(v)]));
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}
function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets queued microtasks and promise chains (p-queue schedules through several) run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise<void>((r) => setImmediate(r));
}

/**
 * A controllable visitor: each visit records its start and waits until the test finishes it with
 * `finish(node)` / `failWith(node, error)`.
 */
function controlled() {
  const started: string[] = [];
  const finished: string[] = [];
  const pending = new Map<string, Deferred>();
  const signals = new Map<string, AbortSignal>();
  let inFlight = 0;
  let maxInFlight = 0;
  const visit = async (node: string, signal: AbortSignal): Promise<void> => {
    started.push(node);
    signals.set(node, signal);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const d = deferred();
    pending.set(node, d);
    try {
      await d.promise;
      finished.push(node);
    } finally {
      inFlight--;
    }
  };
  return {
    visit,
    started,
    finished,
    signals,
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    running: () => [...pending.keys()].filter((n) => !finished.includes(n) && started.includes(n)),
    async finish(node: string) {
      const d = pending.get(node);
      if (!d) throw new Error(`${node} has not started`);
      d.resolve();
      await flush();
    },
    async failWith(node: string, error: unknown) {
      const d = pending.get(node);
      if (!d) throw new Error(`${node} has not started`);
      d.reject(error);
      await flush();
    },
  };
}

describe('findCycle', () => {
  test('acyclic graph has no cycle', () => {
    expect(findCycle(g({ a: ['b', 'c'], b: ['c'], c: [] }))).toBeUndefined();
    expect(findCycle(g({}))).toBeUndefined();
  });

  test('returns the full closed path, deterministically', () => {
    expect(findCycle(g({ a: ['b'], b: ['c'], c: ['a'] }))).toEqual(['a', 'b', 'c', 'a']);
    // Insertion order does not matter: nodes and edges are visited in name order.
    expect(findCycle(g({ c: ['a'], b: ['c'], a: ['b'] }))).toEqual(['a', 'b', 'c', 'a']);
  });

  test('the cycle may start below the first node visited', () => {
    expect(findCycle(g({ a: ['b'], b: ['c'], c: ['d'], d: ['b'] }))).toEqual(['b', 'c', 'd', 'b']);
  });

  test('self-dependency', () => {
    expect(findCycle(g({ a: [], b: ['b'] }))).toEqual(['b', 'b']);
  });

  test('edges to unknown nodes are ignored', () => {
    expect(findCycle(g({ a: ['missing'], b: ['a'] }))).toBeUndefined();
  });

  test('long chains do not overflow the stack', () => {
    const spec: Record<string, string[]> = {};
    for (let i = 0; i < 20_000; i++) spec[`s${i}`] = i === 0 ? [] : [`s${i - 1}`];
    expect(findCycle(g(spec))).toBeUndefined();
  });
});

describe('dependencyOrder', () => {
  test('dependencies first, level by level, names sorted within a level', () => {
    const graph = g({ web: ['api', 'cache'], api: ['db'], cache: [], db: [], worker: ['db'], zz: [] });
    expect(dependencyOrder(graph)).toEqual(['cache', 'db', 'zz', 'api', 'worker', 'web']);
  });

  test('is independent of insertion order', () => {
    const a = g({ c: ['a'], b: [], a: [], d: ['c', 'b'] });
    const b = g({ d: ['b', 'c'], a: [], b: [], c: ['a'] });
    expect(dependencyOrder(a)).toEqual(['a', 'b', 'c', 'd']);
    expect(dependencyOrder(b)).toEqual(dependencyOrder(a));
  });

  test('every dependency precedes its dependents', () => {
    const graph = g({ a: ['b', 'e'], b: ['c'], c: ['d'], d: [], e: ['d'], f: ['a', 'c'], g: [] });
    const order = dependencyOrder(graph);
    expect(order.sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    const pos = new Map(dependencyOrder(graph).map((n, i) => [n, i]));
    for (const [node, deps] of graph) for (const d of deps) expect(pos.get(d)!).toBeLessThan(pos.get(node)!);
  });

  test('edges to unknown nodes are ignored', () => {
    expect(dependencyOrder(g({ a: ['gone'], b: ['a'] }))).toEqual(['a', 'b']);
  });

  test('a cycle throws DependencyCycleError with the path', () => {
    const graph = g({ a: ['b'], b: ['c'], c: ['a'], d: [] });
    expect(() => dependencyOrder(graph)).toThrow(DependencyCycleError);
    expect(() => dependencyOrder(graph)).toThrow('a -> b -> c -> a');
    try {
      dependencyOrder(graph);
    } catch (e) {
      expect(e).toBeInstanceOf(DependencyCycleError);
      expect((e as DependencyCycleError).cycle).toEqual(['a', 'b', 'c', 'a']);
      expect((e as DependencyCycleError).code).toBe('TSC_CYCLE');
    }
  });

  test('a self-dependency throws', () => {
    expect(() => dependencyOrder(g({ a: ['a'] }))).toThrow('dependency cycle detected: a -> a');
  });
});

describe('traverse', () => {
  test('independent nodes run concurrently; dependents only after all their deps', async () => {
    const v = controlled();
    // web depends on api and cache; api on db.
    const graph = g({ web: ['api', 'cache'], api: ['db'], cache: [], db: [] });
    let done = false;
    const p = traverse(graph, v.visit).then(() => {
      done = true;
    });
    await flush();
    expect(v.started).toEqual(['cache', 'db']); // both at once, in name order
    expect(v.inFlight).toBe(2);

    await v.finish('db');
    expect(v.started).toEqual(['cache', 'db', 'api']); // api does not wait for cache
    expect(v.inFlight).toBe(2);

    await v.finish('api');
    expect(v.started).not.toContain('web'); // still waiting for cache
    await v.finish('cache');
    expect(v.started).toEqual(['cache', 'db', 'api', 'web']);
    expect(done).toBe(false);

    await v.finish('web');
    await p;
    expect(done).toBe(true);
    expect(v.finished).toEqual(['db', 'api', 'cache', 'web']);
  });

  test('concurrency cap is respected', async () => {
    const v = controlled();
    const graph = g({ a: [], b: [], c: [], d: [], e: [], top: ['a', 'b', 'c', 'd', 'e'] });
    const p = traverse(graph, v.visit, { concurrency: 2 });
    await flush();
    expect(v.started).toEqual(['a', 'b']);
    await v.finish('a');
    expect(v.started).toEqual(['a', 'b', 'c']);
    await v.finish('b');
    await v.finish('c');
    expect(v.inFlight).toBe(2);
    await v.finish('d');
    await v.finish('e');
    await v.finish('top');
    await p;
    expect(v.maxInFlight).toBe(2);
    expect(v.started).toEqual(['a', 'b', 'c', 'd', 'e', 'top']);
  });

  test('concurrency 0 or negative means unlimited', async () => {
    for (const concurrency of [0, -1]) {
      const v = controlled();
      const p = traverse(g({ a: [], b: [], c: [], d: [] }), v.visit, { concurrency });
      await flush();
      expect(v.inFlight).toBe(4);
      for (const n of ['a', 'b', 'c', 'd']) await v.finish(n);
      await p;
    }
  });

  test('reverse: a node runs only after all its dependents finished', async () => {
    const v = controlled();
    const graph = g({ web: ['api', 'cache'], api: ['db'], cache: [], db: [] });
    const p = traverse(graph, v.visit, { reverse: true });
    await flush();
    expect(v.started).toEqual(['web']);
    await v.finish('web');
    expect(v.started).toEqual(['web', 'api', 'cache']);
    await v.finish('api');
    expect(v.started).toEqual(['web', 'api', 'cache', 'db']);
    await v.finish('db');
    await v.finish('cache');
    await p;
    expect(v.finished).toEqual(['web', 'api', 'db', 'cache']);
  });

  test('reverse with a shared dependency waits for every dependent', async () => {
    const v = controlled();
    const p = traverse(g({ a: ['db'], b: ['db'], db: [] }), v.visit, { reverse: true });
    await flush();
    expect(v.started).toEqual(['a', 'b']);
    await v.finish('b');
    expect(v.started).not.toContain('db');
    await v.finish('a');
    expect(v.started).toContain('db');
    await v.finish('db');
    await p;
  });

  test('first failure aborts the shared signal, starts nothing new, waits for running visits', async () => {
    const v = controlled();
    // x and y are independent; z waits on x; q is queued behind the concurrency cap.
    const graph = g({ x: [], y: [], q: [], z: ['x'] });
    let settled = false;
    const p = traverse(graph, v.visit, { concurrency: 2 });
    const outcome = p.then(
      () => {
        settled = true;
        return 'resolved';
      },
      (e: unknown) => {
        settled = true;
        return e;
      },
    );
    await flush();
    expect(v.started).toEqual(['q', 'x']);
    const boom = new Error('boom');
    await v.failWith('q', boom);
    const signal = v.signals.get('x')!;
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(boom);
    // y was queued behind the cap: it must not start. x is still running: wait for it.
    expect(v.started).toEqual(['q', 'x']);
    expect(settled).toBe(false);
    await v.finish('x'); // x succeeds, but its dependent z must not start
    expect(await outcome).toBe(boom);
    expect(v.started).toEqual(['q', 'x']);
  });

  test('rejects with the first error even when later visits fail too', async () => {
    const v = controlled();
    const p = traverse(g({ a: [], b: [] }), v.visit);
    const outcome = p.catch((e: unknown) => e);
    await flush();
    const first = new Error('first');
    await v.failWith('b', first);
    await v.failWith('a', new Error('second'));
    expect(await outcome).toBe(first);
  });

  test('a visit that throws synchronously is a failure too', async () => {
    const visit = (node: string): Promise<void> => {
      if (node === 'a') throw new Error('sync');
      return Promise.resolve();
    };
    await expect(traverse(g({ a: [], b: ['a'] }), visit)).rejects.toThrow('sync');
  });

  test('an outer signal aborts the traversal with its reason', async () => {
    const v = controlled();
    const outer = new AbortController();
    const p = traverse(g({ a: [], b: ['a'] }), v.visit, { signal: outer.signal });
    const outcome = p.catch((e: unknown) => e);
    await flush();
    const reason = new Error('interrupted');
    outer.abort(reason);
    await flush();
    expect(v.signals.get('a')!.aborted).toBe(true);
    await v.finish('a');
    expect(await outcome).toBe(reason);
    expect(v.started).toEqual(['a']);
  });

  test('an already aborted outer signal runs nothing', async () => {
    const v = controlled();
    const outer = new AbortController();
    outer.abort(new Error('early'));
    await expect(traverse(g({ a: [] }), v.visit, { signal: outer.signal })).rejects.toThrow('early');
    expect(v.started).toEqual([]);
  });

  test('only: restricts to a subset; edges leaving it count as done', async () => {
    const v = controlled();
    const graph = g({ web: ['api'], api: ['db'], db: [], other: [] });
    const p = traverse(graph, v.visit, { only: ['web', 'api', 'nope'] });
    await flush();
    expect(v.started).toEqual(['api']); // db is outside the subset: api does not wait for it
    await v.finish('api');
    expect(v.started).toEqual(['api', 'web']);
    await v.finish('web');
    await p;
    expect(v.started).not.toContain('db');
    expect(v.started).not.toContain('other');
  });

  test('only with reverse', async () => {
    const v = controlled();
    const graph = g({ web: ['api'], api: ['db'], db: [] });
    const p = traverse(graph, v.visit, { only: new Set(['api', 'db']), reverse: true });
    await flush();
    expect(v.started).toEqual(['api']); // web is outside: api does not wait for it
    await v.finish('api');
    expect(v.started).toEqual(['api', 'db']);
    await v.finish('db');
    await p;
  });

  test('empty graph or empty subset resolves at once', async () => {
    const v = controlled();
    await traverse(g({}), v.visit);
    await traverse(g({ a: [] }), v.visit, { only: [] });
    expect(v.started).toEqual([]);
  });

  test('a cycle rejects with DependencyCycleError before anything runs', async () => {
    const v = controlled();
    const graph = g({ a: ['b'], b: ['c'], c: ['a'], free: [] });
    await expect(traverse(graph, v.visit)).rejects.toThrow(DependencyCycleError);
    await expect(traverse(graph, v.visit)).rejects.toThrow('a -> b -> c -> a');
    await expect(traverse(g({ s: ['s'] }), v.visit, { reverse: true })).rejects.toThrow('s -> s');
    expect(v.started).toEqual([]);
  });

  test('a cycle outside the `only` subset does not matter', async () => {
    const calls: string[] = [];
    await traverse(g({ a: ['b'], b: ['a'], c: [] }), async (n) => void calls.push(n), { only: ['c'] });
    expect(calls).toEqual(['c']);
  });

  test('visits every node exactly once on a larger graph, respecting order', async () => {
    const spec: Record<string, string[]> = {};
    for (let i = 0; i < 200; i++)
      spec[`s${String(i).padStart(3, '0')}`] = i < 10 ? [] : [`s${String(i % 10).padStart(3, '0')}`, `s${String(i - 1).padStart(3, '0')}`];
    const graph = g(spec);
    const done = new Set<string>();
    let inFlight = 0;
    let max = 0;
    await traverse(
      graph,
      async (node) => {
        for (const d of graph.get(node)!) expect(done.has(d)).toBe(true);
        inFlight++;
        max = Math.max(max, inFlight);
        await Promise.resolve();
        inFlight--;
        expect(done.has(node)).toBe(false);
        done.add(node);
      },
      { concurrency: 3 },
    );
    expect(done.size).toBe(200);
    expect(max).toBeLessThanOrEqual(3);
  });
});

describe('parallelLimit', () => {
  test('flag wins over the environment', () => {
    expect(parallelLimit(4, { COMPOSE_PARALLEL_LIMIT: '2' })).toBe(4);
    expect(parallelLimit('3', {})).toBe(3);
  });

  test('-1 (compose default) or no flag falls back to COMPOSE_PARALLEL_LIMIT', () => {
    expect(parallelLimit(undefined, { COMPOSE_PARALLEL_LIMIT: '2' })).toBe(2);
    expect(parallelLimit(-1, { COMPOSE_PARALLEL_LIMIT: ' 5 ' })).toBe(5);
  });

  test('unlimited is undefined', () => {
    expect(parallelLimit(undefined, {})).toBeUndefined();
    expect(parallelLimit(-1, {})).toBeUndefined();
    expect(parallelLimit(0, { COMPOSE_PARALLEL_LIMIT: '3' })).toBeUndefined();
    expect(parallelLimit(undefined, { COMPOSE_PARALLEL_LIMIT: '-1' })).toBeUndefined();
    expect(parallelLimit(undefined, { COMPOSE_PARALLEL_LIMIT: '0' })).toBeUndefined();
    expect(parallelLimit(undefined, { COMPOSE_PARALLEL_LIMIT: '' })).toBeUndefined();
  });

  test('non-integers are usage errors naming their source', () => {
    expect(() => parallelLimit('two', {})).toThrow(UsageError);
    expect(() => parallelLimit('1.5', {})).toThrow('--parallel');
    expect(() => parallelLimit(undefined, { COMPOSE_PARALLEL_LIMIT: 'many' })).toThrow('COMPOSE_PARALLEL_LIMIT');
  });
});
