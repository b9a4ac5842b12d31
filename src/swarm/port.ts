/**
 * The port of the Swarm backend (`--runtime swarm`): the cluster objects a stack is made of, as the Engine API of a
 * swarm manager serves them (services, tasks, networks, secrets, configs, nodes). Swarm exists only in Docker
 * Engine, so the values are the Engine API's own shapes (./api-types.ts), not a neutral model: the adapters are the
 * dockerode one (./docker/) and an in-memory fake (./fake/) for the engine's tests, both passing one contract suite.
 * Everything the stack engine does to a cluster goes through here.
 */
import type { Readable } from 'node:stream';
import type { ConfigSpec, NetworkCreateRequest, SecretSpec, ServiceSpec } from './api-types.js';

export interface SwarmCallOptions {
  readonly signal?: AbortSignal | undefined;
}

export interface SwarmListOptions extends SwarmCallOptions {
  /** Only objects carrying all these labels (`com.docker.stack.namespace=<project>`). */
  readonly labels?: Readonly<Record<string, string>> | undefined;
}

/** Whether the endpoint is a swarm manager, and which node it is. */
export interface SwarmInfo {
  readonly nodeId: string;
  readonly clusterId: string;
  readonly isManager: boolean;
  readonly nodes: number;
  readonly managers: number;
}

export interface SwarmService {
  readonly id: string;
  /** The object version to update from (optimistic concurrency: an update on an older version is refused). */
  readonly version: number;
  readonly spec: ServiceSpec;
  /** The spec before the last update (rollback target), if any. */
  readonly previousSpec?: ServiceSpec | undefined;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** The rolling update under way or done: `updating`, `paused`, `completed`, `rollback_started`, … */
  readonly updateState?: string | undefined;
  readonly updateMessage?: string | undefined;
}

/** Swarm's task states (`new` … `running`, `complete`, `failed`, `rejected`, …). */
export type TaskState =
  | 'new'
  | 'allocated'
  | 'pending'
  | 'assigned'
  | 'accepted'
  | 'preparing'
  | 'ready'
  | 'starting'
  | 'running'
  | 'complete'
  | 'shutdown'
  | 'failed'
  | 'rejected'
  | 'remove'
  | 'orphaned';

export interface SwarmTask {
  readonly id: string;
  readonly serviceId: string;
  readonly nodeId?: string | undefined;
  /** Replica number (replicated services); global services have none. */
  readonly slot?: number | undefined;
  readonly desiredState: TaskState;
  /** A task with a healthcheck stays `starting` until healthy, then `running`. */
  readonly state: TaskState;
  readonly message: string;
  /** Why it failed or was rejected: image missing, no suitable node, insufficient resources, … */
  readonly error?: string | undefined;
  readonly exitCode?: number | undefined;
  readonly containerId?: string | undefined;
  readonly updatedAt: string;
  /** The spec version the task runs (after an update, old tasks keep the old one). */
  readonly specVersion?: number | undefined;
}

export interface SwarmNode {
  readonly id: string;
  readonly hostname: string;
  readonly role: 'manager' | 'worker';
  readonly availability: 'active' | 'pause' | 'drain';
  readonly state: 'unknown' | 'down' | 'ready' | 'disconnected';
  readonly address?: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
}

export interface SwarmNetwork {
  readonly id: string;
  readonly name: string;
  readonly driver: string;
  readonly scope: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** A secret or a config (their data is never read back). */
export interface SwarmObject {
  readonly id: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly createdAt: string;
}

export interface ServiceLogsOptions extends SwarmCallOptions {
  readonly follow?: boolean | undefined;
  readonly tail?: number | undefined;
  readonly timestamps?: boolean | undefined;
}

export interface SwarmApi {
  /** undefined when the endpoint is not part of a swarm (`docker swarm init` it first). */
  swarmInfo(options?: SwarmCallOptions): Promise<SwarmInfo | undefined>;

  listServices(options?: SwarmListOptions): Promise<SwarmService[]>;
  inspectService(idOrName: string, options?: SwarmCallOptions): Promise<SwarmService>;
  /** `registryAuth`: base64 X-Registry-Auth, so every node can pull the image. */
  createService(spec: ServiceSpec, options?: SwarmCallOptions & { readonly registryAuth?: string | undefined }): Promise<{ readonly id: string }>;
  /** Refused (conflict) when `version` is not the current one. `rollback` asks swarm to go back to the previous spec. */
  updateService(
    id: string,
    version: number,
    spec: ServiceSpec,
    options?: SwarmCallOptions & { readonly registryAuth?: string | undefined; readonly rollback?: boolean | undefined },
  ): Promise<{ readonly warnings: readonly string[] }>;
  removeService(idOrName: string, options?: SwarmCallOptions): Promise<void>;
  /** Tasks of a service (all states, newest first per slot), or of every service with `service` undefined. */
  listTasks(options?: SwarmCallOptions & { readonly service?: string | undefined }): Promise<SwarmTask[]>;
  serviceLogs(idOrName: string, options?: ServiceLogsOptions): Promise<Readable>;

  listNetworks(options?: SwarmListOptions): Promise<SwarmNetwork[]>;
  createNetwork(req: NetworkCreateRequest, options?: SwarmCallOptions): Promise<{ readonly id: string }>;
  removeNetwork(idOrName: string, options?: SwarmCallOptions): Promise<void>;

  listSecrets(options?: SwarmListOptions): Promise<SwarmObject[]>;
  createSecret(spec: SecretSpec, options?: SwarmCallOptions): Promise<{ readonly id: string }>;
  /** Refused (conflict) while a service uses it. */
  removeSecret(idOrName: string, options?: SwarmCallOptions): Promise<void>;

  listConfigs(options?: SwarmListOptions): Promise<SwarmObject[]>;
  createConfig(spec: ConfigSpec, options?: SwarmCallOptions): Promise<{ readonly id: string }>;
  removeConfig(idOrName: string, options?: SwarmCallOptions): Promise<void>;

  listNodes(options?: SwarmCallOptions): Promise<SwarmNode[]>;
  /** Sets a node's availability (`drain` moves its tasks away). */
  setNodeAvailability(id: string, availability: SwarmNode['availability'], options?: SwarmCallOptions): Promise<void>;
}
