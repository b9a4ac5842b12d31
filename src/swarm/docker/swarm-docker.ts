/**
 * The Swarm port (../port.ts) on Docker Engine, through dockerode's connection (DOCKER_HOST and friends, as the
 * runtime adapter chooses it: src/runtime/docker/connection.ts). Calls go straight to the Engine API's swarm
 * endpoints (`/services`, `/tasks`, `/networks`, `/secrets`, `/configs`, `/nodes`, `/info`) through the modem, so
 * query and body are exactly what the API documents (version and `rollback=previous` in the query of
 * `/services/{id}/update`, X-Registry-Auth as given); every error goes through mapSwarmError (./errors.ts).
 *
 * Secret and config references without SecretID/ConfigID are resolved by name before a create or update, as the
 * docker CLI does (the Engine refuses them as malformed). `serviceLogs` is the text format of
 * ../contract/log-format.ts: the Engine's multiplexed stream demuxed, stdout and stderr merged, with details.
 */
import '../../runtime/docker/lazy-deps.js'; // must precede dockerode: keeps gRPC and ssh2 out of start-up
import { PassThrough, type Readable } from 'node:stream';
import Docker from 'dockerode';
import { dockerConnection, type Env } from '../../runtime/docker/connection.js';
import type { ConfigSpec, NetworkCreateRequest, SecretSpec, ServiceSpec } from '../api-types.js';
import { swarmNotFound, type SwarmObjectKind } from '../contract/errors.js';
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
} from '../port.js';
import { mapSwarmError } from './errors.js';
import {
  labelFilters,
  sortTasks,
  toNetwork,
  toNode,
  toObject,
  toService,
  toSwarmInfo,
  toTask,
  type EngineInfo,
  type EngineNetwork,
  type EngineNode,
  type EngineObject,
  type EngineService,
  type EngineTask,
} from './map.js';

type Query = Record<string, string | number | boolean | undefined>;

interface RequestOptions {
  readonly query?: Query | undefined;
  readonly body?: unknown;
  /** base64 X-Registry-Auth. */
  readonly registryAuth?: string | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Resolve with the response stream instead of its parsed JSON. */
  readonly stream?: boolean | undefined;
}

const OK = { 200: true, 201: true, 204: true } as const;

/** How long a created swarm network is waited for to get its driver from the allocator (see untilAllocated). */
const ALLOCATION_WAIT_MS = 5000;

export class DockerSwarm implements SwarmApi {
  readonly kind = 'docker';
  readonly docker: Docker;

  constructor(options: { env?: Env; docker?: Docker } = {}) {
    this.docker = options.docker ?? new Docker(dockerConnection(options.env ?? process.env));
  }

  /** One Engine API call; errors mapped for `kind` `ref`. */
  request<T>(kind: SwarmObjectKind, ref: string, method: 'GET' | 'POST' | 'DELETE', path: string, options: RequestOptions = {}): Promise<T> {
    const query: Record<string, string | number | boolean> = {};
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) query[k] = v;
    options.signal?.throwIfAborted();
    return new Promise<T>((resolve, reject) => {
      this.docker.modem.dial(
        {
          path: `${path}?`,
          method,
          options: { _query: query, _body: options.body ?? {} },
          statusCodes: OK,
          isStream: options.stream === true,
          ...(options.registryAuth ? { authconfig: { base64: options.registryAuth } } : {}),
          ...(options.signal ? { abortSignal: options.signal } : {}),
        } as Parameters<Docker['modem']['dial']>[0],
        (err: unknown, data: unknown) => (err ? reject(mapSwarmError(err, kind, ref)) : resolve(data as T)),
      );
    });
  }

  async swarmInfo(options: SwarmCallOptions = {}): Promise<SwarmInfo | undefined> {
    return toSwarmInfo(await this.request<EngineInfo>('node', 'info', 'GET', '/info', { signal: options.signal }));
  }

  // -- services ----------------------------------------------------------------------------------------------------

  async listServices(options: SwarmListOptions = {}): Promise<SwarmService[]> {
    const list = await this.request<EngineService[]>('service', 'list', 'GET', '/services', {
      query: { filters: labelFilters(options.labels) },
      signal: options.signal,
    });
    return list.map(toService).sort((a, b) => (a.spec.Name < b.spec.Name ? -1 : a.spec.Name > b.spec.Name ? 1 : 0));
  }

  async inspectService(idOrName: string, options: SwarmCallOptions = {}): Promise<SwarmService> {
    return toService(
      await this.request<EngineService>('service', idOrName, 'GET', `/services/${encodeURIComponent(idOrName)}`, { signal: options.signal }),
    );
  }

  async createService(
    spec: ServiceSpec,
    options: SwarmCallOptions & { readonly registryAuth?: string | undefined } = {},
  ): Promise<{ readonly id: string }> {
    const body = await this.withReferenceIds(spec, options.signal);
    const r = await this.request<{ ID: string }>('service', spec.Name, 'POST', '/services/create', {
      body,
      registryAuth: options.registryAuth,
      signal: options.signal,
    });
    return { id: r.ID };
  }

  async updateService(
    id: string,
    version: number,
    spec: ServiceSpec,
    options: SwarmCallOptions & { readonly registryAuth?: string | undefined; readonly rollback?: boolean | undefined } = {},
  ): Promise<{ readonly warnings: readonly string[] }> {
    const body = await this.withReferenceIds(spec, options.signal);
    const r = await this.request<{ Warnings?: string[] | null } | undefined>('service', id, 'POST', `/services/${encodeURIComponent(id)}/update`, {
      query: { version, rollback: options.rollback ? 'previous' : undefined },
      body,
      registryAuth: options.registryAuth,
      signal: options.signal,
    });
    return { warnings: r?.Warnings ?? [] };
  }

  async removeService(idOrName: string, options: SwarmCallOptions = {}): Promise<void> {
    await this.request('service', idOrName, 'DELETE', `/services/${encodeURIComponent(idOrName)}`, { signal: options.signal });
  }

  async listTasks(options: SwarmCallOptions & { readonly service?: string | undefined } = {}): Promise<SwarmTask[]> {
    const ref = options.service ?? 'list';
    // The Engine filters by service name or ID, and answers an unknown one with no tasks: inspect it first.
    if (options.service !== undefined) await this.inspectService(options.service, options);
    const tasks = await this.request<EngineTask[]>('task', ref, 'GET', '/tasks', {
      query: { filters: options.service !== undefined ? JSON.stringify({ service: [options.service] }) : undefined },
      signal: options.signal,
    });
    return sortTasks(tasks).map(toTask);
  }

  async serviceLogs(idOrName: string, options: ServiceLogsOptions = {}): Promise<Readable> {
    const res = await this.request<Readable>('service', idOrName, 'GET', `/services/${encodeURIComponent(idOrName)}/logs`, {
      query: {
        stdout: true,
        stderr: true,
        details: true,
        follow: options.follow === true,
        timestamps: options.timestamps === true,
        tail: options.tail !== undefined ? String(options.tail) : 'all',
      },
      signal: options.signal,
      stream: true,
    });
    const out = new PassThrough();
    this.docker.modem.demuxStream(res, out, out);
    res.on('end', () => out.end());
    res.on('error', (e) => out.destroy(options.signal?.aborted ? undefined : e));
    out.on('close', () => res.destroy());
    return out;
  }

  // -- networks ----------------------------------------------------------------------------------------------------

  async listNetworks(options: SwarmListOptions = {}): Promise<SwarmNetwork[]> {
    const list = await this.request<EngineNetwork[]>('network', 'list', 'GET', '/networks', {
      query: { filters: labelFilters(options.labels) },
      signal: options.signal,
    });
    return list.map(toNetwork).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async createNetwork(req: NetworkCreateRequest, options: SwarmCallOptions = {}): Promise<{ readonly id: string }> {
    const r = await this.request<{ Id: string }>('network', req.Name, 'POST', '/networks/create', {
      body: { CheckDuplicate: true, ...req },
      signal: options.signal,
    });
    await this.untilAllocated(r.Id, options.signal);
    return { id: r.Id };
  }

  /**
   * A swarm network has no driver in the Engine's answers until the manager's allocator has given it one (the API
   * reports `DriverState`, empty before): listed right after its creation it shows `driver: ''`. Waits (bounded,
   * usually one or two inspects) so that a created network reads back as created; past the bound it returns anyway,
   * since the network exists and services may use it.
   */
  private async untilAllocated(id: string, signal: AbortSignal | undefined): Promise<void> {
    const deadline = Date.now() + ALLOCATION_WAIT_MS;
    for (;;) {
      const n = await this.request<EngineNetwork>('network', id, 'GET', `/networks/${encodeURIComponent(id)}`, { signal });
      if (n.Driver || Date.now() >= deadline) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  async removeNetwork(idOrName: string, options: SwarmCallOptions = {}): Promise<void> {
    await this.request('network', idOrName, 'DELETE', `/networks/${encodeURIComponent(idOrName)}`, { signal: options.signal });
  }

  // -- secrets and configs -----------------------------------------------------------------------------------------

  listSecrets(options: SwarmListOptions = {}): Promise<SwarmObject[]> {
    return this.listObjects('secret', options);
  }

  async createSecret(spec: SecretSpec, options: SwarmCallOptions = {}): Promise<{ readonly id: string }> {
    const r = await this.request<{ ID: string }>('secret', spec.Name, 'POST', '/secrets/create', { body: spec, signal: options.signal });
    return { id: r.ID };
  }

  async removeSecret(idOrName: string, options: SwarmCallOptions = {}): Promise<void> {
    await this.request('secret', idOrName, 'DELETE', `/secrets/${encodeURIComponent(idOrName)}`, { signal: options.signal });
  }

  listConfigs(options: SwarmListOptions = {}): Promise<SwarmObject[]> {
    return this.listObjects('config', options);
  }

  async createConfig(spec: ConfigSpec, options: SwarmCallOptions = {}): Promise<{ readonly id: string }> {
    const r = await this.request<{ ID: string }>('config', spec.Name, 'POST', '/configs/create', { body: spec, signal: options.signal });
    return { id: r.ID };
  }

  async removeConfig(idOrName: string, options: SwarmCallOptions = {}): Promise<void> {
    await this.request('config', idOrName, 'DELETE', `/configs/${encodeURIComponent(idOrName)}`, { signal: options.signal });
  }

  private async listObjects(kind: 'secret' | 'config', options: SwarmListOptions & { readonly names?: string[] }): Promise<SwarmObject[]> {
    const extra = options.names?.length ? { name: options.names } : {};
    const list = await this.request<EngineObject[]>(kind, 'list', 'GET', `/${kind}s`, {
      query: { filters: labelFilters(options.labels, extra) },
      signal: options.signal,
    });
    return list.map(toObject).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The spec with SecretID/ConfigID filled in by name where missing (the `name` filter matches prefixes: exact names only). */
  private async withReferenceIds(spec: ServiceSpec, signal: AbortSignal | undefined): Promise<ServiceSpec> {
    const c = spec.TaskTemplate.ContainerSpec;
    const secrets = (c.Secrets ?? []).filter((s) => !s.SecretID).map((s) => s.SecretName);
    const configs = (c.Configs ?? []).filter((s) => !s.ConfigID).map((s) => s.ConfigName);
    if (!secrets.length && !configs.length) return spec;
    const ids = async (kind: 'secret' | 'config', names: string[]): Promise<Map<string, string>> => {
      const m = new Map<string, string>();
      if (!names.length) return m;
      for (const o of await this.listObjects(kind, { names, signal })) m.set(o.name, o.id);
      for (const n of names) if (!m.has(n)) throw swarmNotFound(kind, n);
      return m;
    };
    const secretIds = await ids('secret', secrets);
    const configIds = await ids('config', configs);
    return {
      ...spec,
      TaskTemplate: {
        ...spec.TaskTemplate,
        ContainerSpec: {
          ...c,
          ...(c.Secrets ? { Secrets: c.Secrets.map((s) => (s.SecretID ? s : { ...s, SecretID: secretIds.get(s.SecretName)! })) } : {}),
          ...(c.Configs ? { Configs: c.Configs.map((s) => (s.ConfigID ? s : { ...s, ConfigID: configIds.get(s.ConfigName)! })) } : {}),
        },
      },
    };
  }

  // -- nodes -------------------------------------------------------------------------------------------------------

  async listNodes(options: SwarmCallOptions = {}): Promise<SwarmNode[]> {
    const list = await this.request<EngineNode[]>('node', 'list', 'GET', '/nodes', { signal: options.signal });
    return list.map(toNode).sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : a.id < b.id ? -1 : 1));
  }

  async setNodeAvailability(id: string, availability: SwarmNode['availability'], options: SwarmCallOptions = {}): Promise<void> {
    // Optimistic concurrency as for services: read the version, update from it; once more if the node moved on.
    for (let attempt = 0; ; attempt++) {
      const node = await this.request<EngineNode & { Version?: { Index?: number } }>('node', id, 'GET', `/nodes/${encodeURIComponent(id)}`, {
        signal: options.signal,
      });
      try {
        await this.request('node', id, 'POST', `/nodes/${encodeURIComponent(id)}/update`, {
          query: { version: node.Version?.Index ?? 0 },
          body: { ...node.Spec, Availability: availability },
          signal: options.signal,
        });
        return;
      } catch (e) {
        if (attempt >= 2 || !/out of sequence/i.test((e as Error).message)) throw e;
      }
    }
  }
}
