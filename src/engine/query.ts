/**
 * Read-only use cases: `ps`, `ls`, `port`, `top`, `wait`, `events`.
 */
import { TsComposeError } from '../errors.js';
import type { ContainerStatus, ProcessList, PublishedPort, RuntimeEvent } from '../runtime/runtime.js';
import { isOneoff, numberOf, projectContainers, serviceContainer, serviceOf } from './containers.js';
import type { EngineContext } from './events.js';
import { LABEL_CONFIG_FILES, LABEL_PROJECT, LABEL_SERVICE, LABEL_WORKING_DIR } from './labels.js';

export interface PsRow {
  readonly id: string;
  readonly name: string;
  readonly image: string;
  /** The main process's arguments, the program first (empty when the runtime does not say). */
  readonly command: readonly string[];
  readonly service: string;
  readonly number: number;
  readonly project: string;
  readonly status: ContainerStatus;
  readonly state: string;
  readonly health: string;
  readonly exitCode: number;
  readonly created: number;
  readonly ports: readonly PublishedPort[];
  readonly labels: Readonly<Record<string, string>>;
}

export interface PsOptions {
  readonly services?: readonly string[] | undefined;
  /** `-a`: include stopped containers. */
  readonly all?: boolean | undefined;
  /** `--status`: only these states. */
  readonly status?: readonly string[] | undefined;
  readonly orphans?: boolean | undefined;
}

export async function ps(ctx: EngineContext, project: string, options: PsOptions = {}): Promise<PsRow[]> {
  const list = await projectContainers(ctx.runtime, project, { services: options.services, oneoff: true, signal: ctx.signal });
  const shown = list.filter((c) => {
    if (options.status && options.status.length > 0) return options.status.includes(c.status);
    return options.all || c.status === 'running' || c.status === 'restarting' || c.status === 'paused';
  });
  return Promise.all(
    shown.map(async (c): Promise<PsRow> => {
      let exitCode = 0;
      let health = '';
      let command: readonly string[] = [];
      try {
        const i = await ctx.runtime.inspectContainer(c.id, { signal: ctx.signal });
        exitCode = i.exitCode;
        health = i.health ?? '';
        command = i.command ?? [];
      } catch {
        // gone meanwhile
      }
      return {
        id: c.id,
        name: c.name,
        image: c.image,
        command,
        service: serviceOf(c),
        number: isOneoff(c) ? 0 : numberOf(c),
        project,
        status: c.status,
        state: c.status,
        health,
        exitCode,
        created: c.created,
        ports: c.publishedPorts ?? [],
        labels: c.labels,
      };
    }),
  );
}

export interface LsRow {
  readonly name: string;
  /** `running(2), exited(1)`. */
  readonly status: string;
  readonly configFiles: string;
  readonly workingDir: string;
  readonly running: number;
}

/** `ls`: projects found by label (running ones only unless `all`). */
export async function ls(ctx: EngineContext, options: { all?: boolean | undefined } = {}): Promise<LsRow[]> {
  const list = await ctx.runtime.listContainers({ all: true, labels: { [LABEL_PROJECT]: true }, signal: ctx.signal });
  const byProject = new Map<string, typeof list>();
  for (const c of list) {
    const p = c.labels[LABEL_PROJECT]!;
    byProject.set(p, [...(byProject.get(p) ?? []), c]);
  }
  const rows: LsRow[] = [];
  for (const [name, cs] of [...byProject].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const counts = new Map<string, number>();
    for (const c of cs) counts.set(c.status, (counts.get(c.status) ?? 0) + 1);
    const running = counts.get('running') ?? 0;
    if (!options.all && running === 0) continue;
    rows.push({
      name,
      status: [...counts]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([s, n]) => `${s}(${n})`)
        .join(', '),
      configFiles: cs[0]?.labels[LABEL_CONFIG_FILES] ?? '',
      workingDir: cs[0]?.labels[LABEL_WORKING_DIR] ?? '',
      running,
    });
  }
  return rows;
}

/** `port SERVICE PRIVATE_PORT`: `host:port` of the published port. */
export async function port(
  ctx: EngineContext,
  project: string,
  service: string,
  privatePort: number,
  options: { protocol?: string | undefined; index?: number | undefined } = {},
): Promise<string> {
  const c = await serviceContainer(ctx.runtime, project, service, options.index ?? 1, ctx.signal);
  const protocol = options.protocol ?? 'tcp';
  const p = (c.publishedPorts ?? []).find((x) => x.containerPort === privatePort && x.protocol === protocol && x.hostPort !== undefined);
  if (!p) throw new TsComposeError('TSC_NO_PORT', `no port ${privatePort}/${protocol} for container ${c.name}`);
  return `${p.hostIp ?? '0.0.0.0'}:${p.hostPort!}`;
}

/** `top`: the processes of each running container. */
export async function top(ctx: EngineContext, project: string, services?: readonly string[]): Promise<{ name: string; processes: ProcessList }[]> {
  const list = await projectContainers(ctx.runtime, project, { services, runningOnly: true, signal: ctx.signal });
  return Promise.all(list.map(async (c) => ({ name: c.name, processes: await ctx.runtime.topContainer(c.id, { signal: ctx.signal }) })));
}

/** `wait`: blocks until the services' containers stop; returns the first exit code. */
export async function waitServices(ctx: EngineContext, project: string, services: readonly string[]): Promise<number> {
  const list = await projectContainers(ctx.runtime, project, { services, signal: ctx.signal });
  if (list.length === 0)
    throw new TsComposeError(
      'TSC_NOT_FOUND',
      `no containers for project "${project}"${services.length ? ` and services ${services.join(', ')}` : ''}`,
    );
  return Promise.race(list.map((c) => ctx.runtime.waitContainer(c.id, { signal: ctx.signal })));
}

export interface ComposeEvent {
  readonly time: number;
  readonly type: string;
  readonly action: string;
  readonly id: string;
  readonly service: string;
  readonly attributes: Readonly<Record<string, string>>;
}

/**
 * `events`: the project's container events as they happen (until the signal aborts); with `since` (unix seconds)
 * those from then on first, with `until` the stream ends then.
 */
export async function* projectEvents(
  ctx: EngineContext,
  project: string,
  services: readonly string[] = [],
  window: { readonly since?: number | undefined; readonly until?: number | undefined } = {},
): AsyncGenerator<ComposeEvent> {
  const stream: AsyncIterable<RuntimeEvent> = ctx.runtime.events({
    labels: { [LABEL_PROJECT]: project },
    types: ['container'],
    signal: ctx.signal,
    ...(window.since === undefined ? {} : { since: window.since }),
    ...(window.until === undefined ? {} : { until: window.until }),
  });
  for await (const e of stream) {
    const service = e.attributes[LABEL_SERVICE] ?? '';
    if (services.length > 0 && !services.includes(service)) continue;
    yield { time: e.time, type: e.type, action: e.action, id: e.id, service, attributes: e.attributes };
  }
}
