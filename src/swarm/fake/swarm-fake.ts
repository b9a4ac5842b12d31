/**
 * An in-memory Swarm port (../port.ts) for the stack engine's unit tests, behaving as a swarm manager does where the
 * engine can tell (the contract suite, ../contract/suite.ts, holds it to the Docker adapter's behaviour):
 * - services carry a version from one cluster-wide counter; an update from any other version is refused
 *   (ConflictError, as SwarmKit's "update out of sequence"); an update keeps the old spec as `previousSpec`,
 *   `rollback` goes back to it;
 * - the fake makes the tasks itself: one per replica (slots 1…n) or per active node (global), spread round-robin
 *   over the active nodes; a changed task template (or ForceUpdate) replaces every slot's task (the old one goes
 *   `shutdown`), a changed replica count adds or shuts down slots; draining a node moves its tasks elsewhere;
 * - new tasks go `running` at once (`autoStart: false`: they stay `pending`), or with `healthGated` and a
 *   healthcheck in the ContainerSpec stay `starting` until the test calls `setHealthy`; `setTaskState` sets any
 *   state (with message, error, exit code), `replaceTask` starts a new task in a slot as a restart policy would;
 * - secrets and configs referenced by name only get their ID filled in, as the Docker adapter does; removing one a
 *   service references by ID is refused (Conflict), as is removing a network a service is attached to;
 * - nodes: one ready manager by default (`nodes` option), `swarm: false` for an engine outside any swarm;
 * - service logs: the text of ../contract/log-format.ts, from lines the test adds with `addLog`;
 * - a call log (`calls`) and injected failures (`failNext`), as src/runtime/fake's.
 */
import { PassThrough, type Readable } from 'node:stream';
import type { ConfigSpec, NetworkCreateRequest, SecretSpec, ServiceSpec } from '../api-types.js';
import { NotSwarmManagerError, swarmConflict, swarmNotFound } from '../contract/errors.js';
import { formatServiceLogLine, NODE_ID, SERVICE_ID, TASK_ID } from '../contract/log-format.js';
import type {
  ServiceLogsOptions,
  SwarmApi,
  SwarmCallOptions,
  SwarmInfo,
  SwarmListOptions,
  SwarmNetwork,
  SwarmNode,
  SwarmObject,
  SwarmService,
  SwarmTask,
  TaskState,
} from '../port.js';
import { FakeTasks, type FakeService } from './tasks.js';

export interface SwarmFakeCall {
  readonly method: string;
  /** The main argument(s): an id or name, the spec's name for creates, `version` for updates. */
  readonly args: readonly string[];
}

export interface SwarmFakeOptions {
  /** The swarm's nodes (default: one ready manager `manager-1`). The first manager is the one the fake answers as. */
  readonly nodes?: readonly { readonly hostname: string; readonly role?: 'manager' | 'worker'; readonly labels?: Record<string, string> }[];
  /** New tasks go `running` (default true); false: they stay `pending` until `setTaskState`. */
  readonly autoStart?: boolean;
  /** Tasks of services with a healthcheck stay `starting` until `setHealthy` (default false: they go `running`). */
  readonly healthGated?: boolean;
  /** false: the endpoint is in no swarm (swarmInfo undefined, everything else NotSwarmManagerError). */
  readonly swarm?: boolean;
}

type Failure = { method: string; match?: ((args: readonly string[]) => boolean) | undefined; error: Error };

interface StoredObject extends SwarmObject {
  readonly data: string;
}

const PREDEFINED: readonly SwarmNetwork[] = [
  { id: 'net-bridge', name: 'bridge', driver: 'bridge', scope: 'local', labels: {} },
  { id: 'net-host', name: 'host', driver: 'host', scope: 'local', labels: {} },
  { id: 'net-none', name: 'none', driver: 'null', scope: 'local', labels: {} },
  { id: 'net-ingress', name: 'ingress', driver: 'overlay', scope: 'swarm', labels: {} },
];

const matches = (labels: Readonly<Record<string, string>>, want: Readonly<Record<string, string>> | undefined): boolean =>
  Object.entries(want ?? {}).every(([k, v]) => labels[k] === v);
const byName = <T extends { name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export class SwarmFake implements SwarmApi {
  readonly kind = 'fake';
  readonly calls: SwarmFakeCall[] = [];
  readonly tasks: FakeTasks;
  readonly networks = new Map<string, SwarmNetwork>();
  readonly secrets = new Map<string, StoredObject>();
  readonly configs = new Map<string, StoredObject>();
  private readonly failures: Failure[] = [];
  private readonly inSwarm: boolean;

  constructor(options: SwarmFakeOptions = {}) {
    this.inSwarm = options.swarm !== false;
    this.tasks = new FakeTasks(options);
    for (const n of PREDEFINED) this.networks.set(n.id, n);
  }

  // -- test controls -----------------------------------------------------------------------------------------------

  /** The next call of `method` (whose args `match`, if given) rejects with `error`. */
  failNext(method: string, error: Error, match?: (args: readonly string[]) => boolean): void {
    this.failures.push({ method, match, error });
  }

  /** Sets the state of the newest task of `service` (name or id) in `slot` (global services: the node id). */
  setTaskState(
    service: string,
    slot: number | string,
    state: TaskState,
    detail: { message?: string; error?: string; exitCode?: number } = {},
  ): SwarmTask {
    return this.tasks.setState(this.tasks.service(service), slot, state, detail);
  }

  /** Tasks of `service` (all, or those of `slot`) that are `starting` go `running`. */
  setHealthy(service: string, slot?: number | string): void {
    this.tasks.setHealthy(this.tasks.service(service), slot);
  }

  /** Shuts the newest task of a slot down and starts a new one there (what a restart policy does). */
  replaceTask(service: string, slot: number | string): SwarmTask {
    return this.tasks.replace(this.tasks.service(service), slot);
  }

  /** A line the task of `slot` printed (serviceLogs returns it; followers get it at once). */
  addLog(service: string, slot: number | string, message: string): void {
    const s = this.tasks.service(service);
    const task = this.tasks.newest(s, slot);
    const line = { timestamp: this.tasks.now(), details: { [NODE_ID]: task.nodeId ?? '', [SERVICE_ID]: s.id, [TASK_ID]: task.id }, message };
    s.logs.push(line);
    for (const f of s.followers) f.write(formatServiceLogLine(line));
  }

  private async record(method: string, args: readonly string[], options: SwarmCallOptions | undefined, swarmCall = true): Promise<void> {
    options?.signal?.throwIfAborted();
    this.calls.push({ method, args });
    const i = this.failures.findIndex((f) => f.method === method && (!f.match || f.match(args)));
    if (i >= 0) throw this.failures.splice(i, 1)[0]!.error;
    if (swarmCall && !this.inSwarm) throw new NotSwarmManagerError('This node is not a swarm manager.', false);
    await Promise.resolve();
  }

  // -- SwarmApi ----------------------------------------------------------------------------------------------------

  async swarmInfo(options?: SwarmCallOptions): Promise<SwarmInfo | undefined> {
    await this.record('swarmInfo', [], options, false);
    if (!this.inSwarm) return undefined;
    const nodes = [...this.tasks.nodes.values()];
    const self = nodes.find((n) => n.role === 'manager') ?? nodes[0]!;
    return {
      nodeId: self.id,
      clusterId: 'cluster-fake',
      isManager: true,
      nodes: nodes.length,
      managers: nodes.filter((n) => n.role === 'manager').length,
    };
  }

  async listServices(options: SwarmListOptions = {}): Promise<SwarmService[]> {
    await this.record(
      'listServices',
      Object.entries(options.labels ?? {}).map(([k, v]) => `${k}=${v}`),
      options,
    );
    return [...this.tasks.services.values()]
      .filter((s) => matches(s.spec.Labels ?? {}, options.labels))
      .map((s) => this.tasks.view(s))
      .sort((a, b) => (a.spec.Name < b.spec.Name ? -1 : a.spec.Name > b.spec.Name ? 1 : 0));
  }

  async inspectService(idOrName: string, options?: SwarmCallOptions): Promise<SwarmService> {
    await this.record('inspectService', [idOrName], options);
    return this.tasks.view(this.tasks.service(idOrName));
  }

  async createService(
    spec: ServiceSpec,
    options?: SwarmCallOptions & { readonly registryAuth?: string | undefined },
  ): Promise<{ readonly id: string }> {
    await this.record('createService', [spec.Name], options);
    if (this.tasks.find(spec.Name))
      throw swarmConflict('service', spec.Name, `name conflicts with an existing object: service ${spec.Name} already exists`);
    return { id: this.tasks.create(this.checked(spec)).id };
  }

  async updateService(
    id: string,
    version: number,
    spec: ServiceSpec,
    options: SwarmCallOptions & { readonly registryAuth?: string | undefined; readonly rollback?: boolean | undefined } = {},
  ): Promise<{ readonly warnings: readonly string[] }> {
    await this.record('updateService', [id, String(version), ...(options.rollback ? ['rollback'] : [])], options);
    const s = this.tasks.service(id);
    if (version !== s.version) throw swarmConflict('service', id, 'update out of sequence');
    if (options.rollback) {
      if (!s.previousSpec) throw swarmConflict('service', id, 'service does not have a previous spec');
      this.tasks.update(s, s.previousSpec, 'rollback_completed');
    } else {
      this.tasks.update(s, this.checked(spec), 'completed');
    }
    return { warnings: [] };
  }

  async removeService(idOrName: string, options?: SwarmCallOptions): Promise<void> {
    await this.record('removeService', [idOrName], options);
    this.tasks.remove(this.tasks.service(idOrName));
  }

  async listTasks(options: SwarmCallOptions & { readonly service?: string | undefined } = {}): Promise<SwarmTask[]> {
    await this.record('listTasks', options.service !== undefined ? [options.service] : [], options);
    return this.tasks.list(options.service !== undefined ? this.tasks.service(options.service) : undefined);
  }

  async serviceLogs(idOrName: string, options: ServiceLogsOptions = {}): Promise<Readable> {
    await this.record('serviceLogs', [idOrName], options);
    const s = this.tasks.service(idOrName);
    const out = new PassThrough();
    const lines = options.tail !== undefined ? (options.tail > 0 ? s.logs.slice(-options.tail) : []) : s.logs;
    const text = (l: (typeof s.logs)[number]): string => formatServiceLogLine(options.timestamps ? l : { ...l, timestamp: undefined });
    for (const l of lines) out.write(text(l));
    if (!options.follow) {
      out.end();
      return out;
    }
    const stop = (): void => {
      s.followers.delete(follower);
      out.end();
    };
    const follower = { write: (line: string): void => void out.write(options.timestamps ? line : line.replace(/^\S+ /, '')), end: stop };
    s.followers.add(follower);
    options.signal?.addEventListener('abort', stop, { once: true });
    out.on('close', () => s.followers.delete(follower));
    return out;
  }

  async listNetworks(options: SwarmListOptions = {}): Promise<SwarmNetwork[]> {
    await this.record('listNetworks', [], options);
    return [...this.networks.values()].filter((n) => matches(n.labels, options.labels)).sort(byName);
  }

  async createNetwork(req: NetworkCreateRequest, options?: SwarmCallOptions): Promise<{ readonly id: string }> {
    await this.record('createNetwork', [req.Name], options);
    if (this.network(req.Name)) throw swarmConflict('network', req.Name, `network with name ${req.Name} already exists`);
    const id = this.tasks.nextId('net');
    this.networks.set(id, { id, name: req.Name, driver: req.Driver, scope: req.Driver === 'overlay' ? 'swarm' : 'local', labels: { ...req.Labels } });
    return { id };
  }

  async removeNetwork(idOrName: string, options?: SwarmCallOptions): Promise<void> {
    await this.record('removeNetwork', [idOrName], options);
    const n = this.network(idOrName);
    if (!n) throw swarmNotFound('network', idOrName);
    if (PREDEFINED.some((p) => p.id === n.id)) throw swarmConflict('network', idOrName, `${n.name} is a pre-defined network and cannot be removed`);
    const user = [...this.tasks.services.values()].find((s) => (s.spec.TaskTemplate.Networks ?? []).some((a) => this.network(a.Target)?.id === n.id));
    if (user) throw swarmConflict('network', idOrName, `network ${n.name} is in use by service ${user.spec.Name}`);
    this.networks.delete(n.id);
  }

  listSecrets(options: SwarmListOptions = {}): Promise<SwarmObject[]> {
    return this.listObjects('listSecrets', this.secrets, options);
  }

  createSecret(spec: SecretSpec, options?: SwarmCallOptions): Promise<{ readonly id: string }> {
    return this.createObject('secret', this.secrets, spec.Name, spec.Labels, spec.Data ?? '', options);
  }

  removeSecret(idOrName: string, options?: SwarmCallOptions): Promise<void> {
    return this.removeObject('secret', this.secrets, idOrName, options);
  }

  listConfigs(options: SwarmListOptions = {}): Promise<SwarmObject[]> {
    return this.listObjects('listConfigs', this.configs, options);
  }

  createConfig(spec: ConfigSpec, options?: SwarmCallOptions): Promise<{ readonly id: string }> {
    return this.createObject('config', this.configs, spec.Name, spec.Labels, spec.Data, options);
  }

  removeConfig(idOrName: string, options?: SwarmCallOptions): Promise<void> {
    return this.removeObject('config', this.configs, idOrName, options);
  }

  async listNodes(options?: SwarmCallOptions): Promise<SwarmNode[]> {
    await this.record('listNodes', [], options);
    return [...this.tasks.nodes.values()].map((n) => ({ ...n, labels: { ...n.labels } })).sort((a, b) => (a.hostname < b.hostname ? -1 : 1));
  }

  async setNodeAvailability(id: string, availability: SwarmNode['availability'], options?: SwarmCallOptions): Promise<void> {
    await this.record('setNodeAvailability', [id, availability], options);
    this.tasks.setAvailability(id, availability);
  }

  // -- helpers -----------------------------------------------------------------------------------------------------

  /** The data a secret or config was created with (base64), for tests. */
  objectData(kind: 'secret' | 'config', idOrName: string): string | undefined {
    return this.object(kind === 'secret' ? this.secrets : this.configs, idOrName)?.data;
  }

  private network(idOrName: string): SwarmNetwork | undefined {
    return this.networks.get(idOrName) ?? [...this.networks.values()].find((n) => n.name === idOrName);
  }

  private object(map: Map<string, StoredObject>, idOrName: string): StoredObject | undefined {
    return map.get(idOrName) ?? [...map.values()].find((o) => o.name === idOrName);
  }

  /** The spec with secret and config IDs resolved by name, networks checked (NotFound otherwise). */
  private checked(spec: ServiceSpec): ServiceSpec {
    const c = spec.TaskTemplate.ContainerSpec;
    const resolve = (kind: 'secret' | 'config', map: Map<string, StoredObject>, id: string | undefined, name: string): string => {
      const o = id ? map.get(id) : this.object(map, name);
      if (!o) throw swarmNotFound(kind, id ?? name);
      return o.id;
    };
    for (const a of spec.TaskTemplate.Networks ?? []) if (!this.network(a.Target)) throw swarmNotFound('network', a.Target);
    const copy = structuredClone(spec);
    const cc = copy.TaskTemplate.ContainerSpec;
    if (c.Secrets)
      cc.Secrets = c.Secrets.map((s) => ({ ...structuredClone(s), SecretID: resolve('secret', this.secrets, s.SecretID, s.SecretName) }));
    if (c.Configs)
      cc.Configs = c.Configs.map((s) => ({ ...structuredClone(s), ConfigID: resolve('config', this.configs, s.ConfigID, s.ConfigName) }));
    return copy;
  }

  private async listObjects(method: string, map: Map<string, StoredObject>, options: SwarmListOptions): Promise<SwarmObject[]> {
    await this.record(method, [], options);
    return [...map.values()]
      .filter((o) => matches(o.labels, options.labels))
      .map(({ data: _data, ...o }) => o)
      .sort(byName);
  }

  private async createObject(
    kind: 'secret' | 'config',
    map: Map<string, StoredObject>,
    name: string,
    labels: Readonly<Record<string, string>> | undefined,
    data: string,
    options: SwarmCallOptions | undefined,
  ): Promise<{ readonly id: string }> {
    await this.record(kind === 'secret' ? 'createSecret' : 'createConfig', [name], options);
    if (this.object(map, name)) throw swarmConflict(kind, name, `${kind} ${name} already exists`);
    const id = this.tasks.nextId(kind);
    map.set(id, { id, name, labels: { ...labels }, createdAt: this.tasks.now(), data });
    return { id };
  }

  private async removeObject(
    kind: 'secret' | 'config',
    map: Map<string, StoredObject>,
    idOrName: string,
    options: SwarmCallOptions | undefined,
  ): Promise<void> {
    await this.record(kind === 'secret' ? 'removeSecret' : 'removeConfig', [idOrName], options);
    const o = this.object(map, idOrName);
    if (!o) throw swarmNotFound(kind, idOrName);
    const users = [...this.tasks.services.values()].filter((s: FakeService) => {
      const c = s.spec.TaskTemplate.ContainerSpec;
      return kind === 'secret' ? (c.Secrets ?? []).some((r) => r.SecretID === o.id) : (c.Configs ?? []).some((r) => r.ConfigID === o.id);
    });
    if (users.length)
      throw swarmConflict(kind, idOrName, `${kind} '${o.name}' is in use by the following service: ${users.map((s) => s.spec.Name).join(', ')}`);
    map.delete(o.id);
  }
}
