/**
 * The swarm fake's cluster state (./swarm-fake.ts): services with versions, the tasks the fake schedules for them
 * (one per replica slot, or per active node for global services, spread over the active nodes), nodes, and the
 * deterministic id, version and time counters. What SwarmKit's orchestrator and scheduler do, reduced to what the
 * stack engine can observe: which tasks exist, in which slot, on which node, in which state, on which spec version.
 */
import type { ServiceSpec } from '../api-types.js';
import { swarmNotFound } from '../contract/errors.js';
import type { ServiceLogLine } from '../contract/log-format.js';
import type { SwarmNode, SwarmService, SwarmTask, TaskState } from '../port.js';

export interface FakeService {
  readonly id: string;
  version: number;
  spec: ServiceSpec;
  previousSpec: ServiceSpec | undefined;
  readonly createdAt: string;
  updatedAt: string;
  updateState: string | undefined;
  readonly logs: ServiceLogLine[];
  readonly followers: Set<{ write(line: string): void; end(): void }>;
}

type MutableTask = { -readonly [K in keyof SwarmTask]: SwarmTask[K] } & { seq: number };
type MutableNode = { -readonly [K in keyof SwarmNode]: SwarmNode[K] };

/** Times count one second per change from here (2020-01-01T00:00:00Z). */
const EPOCH = Date.UTC(2020, 0, 1);
const TERMINAL: ReadonlySet<TaskState> = new Set(['complete', 'shutdown', 'failed', 'rejected', 'remove', 'orphaned']);

export interface FakeTasksOptions {
  readonly nodes?: readonly { readonly hostname: string; readonly role?: 'manager' | 'worker'; readonly labels?: Record<string, string> }[];
  readonly autoStart?: boolean;
  readonly healthGated?: boolean;
}

export class FakeTasks {
  readonly services = new Map<string, FakeService>();
  readonly nodes = new Map<string, MutableNode>();
  private readonly tasks: MutableTask[] = [];
  private readonly counters = new Map<string, number>();
  private clock = 0;
  private index = 0;
  private seq = 0;
  private readonly autoStart: boolean;
  private readonly healthGated: boolean;

  constructor(options: FakeTasksOptions) {
    this.autoStart = options.autoStart !== false;
    this.healthGated = options.healthGated === true;
    const nodes = options.nodes?.length ? options.nodes : [{ hostname: 'manager-1', role: 'manager' as const }];
    nodes.forEach((n, i) => {
      const id = this.nextId('node');
      this.nodes.set(id, {
        id,
        hostname: n.hostname,
        role: n.role ?? (i === 0 ? 'manager' : 'worker'),
        availability: 'active',
        state: 'ready',
        address: `10.0.0.${i + 2}`,
        labels: { ...n.labels },
      });
    });
  }

  /** A 25-character id (as SwarmKit's), deterministic per prefix. */
  nextId(prefix: string): string {
    const n = (this.counters.get(prefix) ?? 0) + 1;
    this.counters.set(prefix, n);
    return (prefix + n.toString(36).padStart(6, '0')).padEnd(25, '0');
  }

  /** The next change time (RFC 3339, one second per change). */
  now(): string {
    return new Date(EPOCH + ++this.clock * 1000).toISOString().replace('.000Z', '.000000000Z');
  }

  /** The next object version (one counter for the whole cluster, as raft's index). */
  nextVersion(): number {
    return ++this.index;
  }

  find(idOrName: string): FakeService | undefined {
    return this.services.get(idOrName) ?? [...this.services.values()].find((s) => s.spec.Name === idOrName);
  }

  service(idOrName: string): FakeService {
    const s = this.find(idOrName);
    if (!s) throw swarmNotFound('service', idOrName);
    return s;
  }

  view(s: FakeService): SwarmService {
    return {
      id: s.id,
      version: s.version,
      spec: structuredClone(s.spec),
      previousSpec: s.previousSpec ? structuredClone(s.previousSpec) : undefined,
      createdAt: s.createdAt,
      updatedAt: s.updatedAt,
      updateState: s.updateState,
    };
  }

  create(spec: ServiceSpec): FakeService {
    const at = this.now();
    const s: FakeService = {
      id: this.nextId('svc'),
      version: this.nextVersion(),
      spec,
      previousSpec: undefined,
      createdAt: at,
      updatedAt: at,
      updateState: undefined,
      logs: [],
      followers: new Set(),
    };
    this.services.set(s.id, s);
    this.reconcile(s, false);
    return s;
  }

  update(s: FakeService, spec: ServiceSpec, state: string): void {
    const changed = JSON.stringify(s.spec.TaskTemplate) !== JSON.stringify(spec.TaskTemplate);
    s.previousSpec = s.spec;
    s.spec = structuredClone(spec);
    s.version = this.nextVersion();
    s.updatedAt = this.now();
    s.updateState = changed ? state : s.updateState;
    this.reconcile(s, changed);
  }

  remove(s: FakeService): void {
    this.services.delete(s.id);
    for (let i = this.tasks.length - 1; i >= 0; i--) if (this.tasks[i]!.serviceId === s.id) this.tasks.splice(i, 1);
    for (const f of [...s.followers]) f.end();
    s.followers.clear();
  }

  /** Newest first per slot (global services: per node); services and slots in creation order. */
  list(s?: FakeService): SwarmTask[] {
    const order = [...this.services.keys()];
    const key = (t: MutableTask): string =>
      `${String(order.indexOf(t.serviceId)).padStart(6, '0')}\0${t.slot !== undefined ? String(t.slot).padStart(8, '0') : (t.nodeId ?? '')}`;
    return this.tasks
      .filter((t) => !s || t.serviceId === s.id)
      .sort((a, b) => (key(a) !== key(b) ? (key(a) < key(b) ? -1 : 1) : b.seq - a.seq))
      .map(({ seq: _seq, ...t }) => ({ ...t }));
  }

  /** The newest task of a slot (a number) or, for global services, of a node (its id). */
  newest(s: FakeService, slot: number | string): MutableTask {
    const t = this.slotTasks(s, slot)[0];
    if (!t) throw swarmNotFound('task', `${s.spec.Name}.${slot}`);
    return t;
  }

  setState(s: FakeService, slot: number | string, state: TaskState, detail: { message?: string; error?: string; exitCode?: number }): SwarmTask {
    const t = this.newest(s, slot);
    t.state = state;
    t.message = detail.message ?? state;
    t.error = detail.error;
    t.exitCode = detail.exitCode ?? (TERMINAL.has(state) && t.containerId ? (state === 'failed' ? 1 : 0) : t.exitCode);
    if (!t.containerId && ['starting', 'running', 'complete', 'failed'].includes(state)) t.containerId = this.nextId('ctr').padEnd(64, '0');
    t.updatedAt = this.now();
    return { ...t };
  }

  setHealthy(s: FakeService, slot?: number | string): void {
    for (const t of this.tasks) {
      if (t.serviceId !== s.id || t.state !== 'starting') continue;
      if (slot !== undefined && (typeof slot === 'number' ? t.slot !== slot : t.nodeId !== slot)) continue;
      t.state = 'running';
      t.message = 'started';
      t.updatedAt = this.now();
    }
  }

  replace(s: FakeService, slot: number | string): SwarmTask {
    const old = this.newest(s, slot);
    this.shutdown(old);
    const t = this.start(s, old.slot, old.slot === undefined ? old.nodeId : undefined);
    return { ...t };
  }

  setAvailability(nodeId: string, availability: SwarmNode['availability']): void {
    const node = this.nodes.get(nodeId) ?? [...this.nodes.values()].find((n) => n.hostname === nodeId);
    if (!node) throw swarmNotFound('node', nodeId);
    node.availability = availability;
    if (availability !== 'drain') return;
    for (const t of [...this.tasks]) {
      if (t.nodeId !== node.id || t.desiredState !== 'running') continue;
      this.shutdown(t);
      if (t.slot !== undefined) this.start(this.services.get(t.serviceId)!, t.slot);
    }
  }

  private slotTasks(s: FakeService, slot: number | string): MutableTask[] {
    return this.tasks
      .filter((t) => t.serviceId === s.id && (typeof slot === 'number' ? t.slot === slot : t.nodeId === slot))
      .sort((a, b) => b.seq - a.seq);
  }

  private activeNodes(): MutableNode[] {
    return [...this.nodes.values()].filter((n) => n.availability === 'active' && n.state === 'ready');
  }

  private shutdown(t: MutableTask): void {
    t.desiredState = 'shutdown';
    if (!TERMINAL.has(t.state)) {
      t.state = 'shutdown';
      t.message = 'shutdown';
    }
    t.updatedAt = this.now();
  }

  /** A new task for `slot` (or for global `nodeId`) on the active node running the fewest tasks of the service. */
  private start(s: FakeService, slot: number | undefined, nodeId?: string): MutableTask {
    const job = s.spec.Mode.ReplicatedJob !== undefined || s.spec.Mode.GlobalJob !== undefined;
    let node = nodeId;
    if (node === undefined) {
      const load = (n: MutableNode): number =>
        this.tasks.filter((t) => t.serviceId === s.id && t.nodeId === n.id && t.desiredState !== 'shutdown').length;
      node = this.activeNodes().sort((a, b) => load(a) - load(b))[0]?.id;
    }
    const hc = s.spec.TaskTemplate.ContainerSpec.Healthcheck?.Test;
    const healthcheck = hc !== undefined && hc.length > 0 && hc[0] !== 'NONE';
    const state: TaskState = node === undefined ? 'pending' : !this.autoStart ? 'pending' : this.healthGated && healthcheck ? 'starting' : 'running';
    const t: MutableTask = {
      seq: ++this.seq,
      id: this.nextId('task'),
      serviceId: s.id,
      nodeId: state === 'pending' && node === undefined ? undefined : node,
      slot,
      desiredState: job ? 'complete' : 'running',
      state,
      message: state === 'running' ? 'started' : state === 'starting' ? 'starting' : 'pending task scheduling',
      error: node === undefined ? 'no suitable node (no active node)' : undefined,
      exitCode: undefined,
      containerId: state === 'pending' ? undefined : this.nextId('ctr').padEnd(64, '0'),
      updatedAt: this.now(),
      specVersion: s.version,
    };
    this.tasks.push(t);
    return t;
  }

  /** Brings the service's tasks to its spec: replace them all (`replaceAll`), add missing slots, shut extra ones down. */
  private reconcile(s: FakeService, replaceAll: boolean): void {
    const mode = s.spec.Mode;
    const current = this.tasks.filter((t) => t.serviceId === s.id && t.desiredState !== 'shutdown');
    if (mode.Global !== undefined || mode.GlobalJob !== undefined) {
      const nodes = this.activeNodes();
      for (const t of current) if (replaceAll || !nodes.some((n) => n.id === t.nodeId)) this.shutdown(t);
      for (const n of nodes) if (replaceAll || !current.some((t) => t.nodeId === n.id)) this.start(s, undefined, n.id);
      return;
    }
    const want = mode.ReplicatedJob
      ? (mode.ReplicatedJob.TotalCompletions ?? mode.ReplicatedJob.MaxConcurrent ?? 1)
      : (mode.Replicated?.Replicas ?? 1);
    for (const t of current) if (replaceAll || (t.slot ?? 0) > want) this.shutdown(t);
    for (let slot = 1; slot <= want; slot++) if (replaceAll || !current.some((t) => t.slot === slot)) this.start(s, slot);
  }
}
