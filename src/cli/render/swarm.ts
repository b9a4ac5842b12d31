/**
 * `ps` of a stack (`--runtime swarm`): one row per task, as `docker stack ps` shows them, or JSON lines; and
 * `images`: one row per service with the image it runs (repository, tag, the digest it is pinned to).
 */
import { splitReference } from '../../lib/image/reference.js';
import type { SwarmNode, SwarmService, SwarmTask } from '../../swarm/port.js';
import { table } from './table.js';

export interface StackPsRow {
  readonly Name: string;
  readonly Service: string;
  readonly Image: string;
  readonly Node: string;
  readonly DesiredState: string;
  readonly State: string;
  readonly Error: string;
  readonly Ports: string;
}

/** Rows of the stack's tasks: running ones, or all of them with `all` (newest first per slot). */
export function stackPsRows(
  namespace: string,
  services: readonly SwarmService[],
  tasks: readonly SwarmTask[],
  nodes: readonly SwarmNode[],
  all: boolean,
): StackPsRow[] {
  const svc = new Map(services.map((s) => [s.id, s]));
  const host = new Map(nodes.map((n) => [n.id, n.hostname]));
  return tasks
    .filter((t) => svc.has(t.serviceId) && (all || t.desiredState === 'running'))
    .map((t) => {
      const s = svc.get(t.serviceId)!;
      const name = s.spec.Name ?? s.id;
      const ports = (s.spec.EndpointSpec?.Ports ?? [])
        .map((p) => `${p.PublishedPort !== undefined ? `*:${p.PublishedPort}->` : ''}${p.TargetPort}/${p.Protocol ?? 'tcp'}`)
        .join(', ');
      return {
        Name: `${name}.${t.slot ?? t.nodeId ?? t.id.slice(0, 12)}`,
        Service: name.startsWith(`${namespace}_`) ? name.slice(namespace.length + 1) : name,
        Image: s.spec.TaskTemplate?.ContainerSpec?.Image ?? '',
        Node: host.get(t.nodeId ?? '') ?? t.nodeId ?? '',
        DesiredState: t.desiredState,
        State: t.state,
        Error: t.error ?? '',
        Ports: ports,
      };
    })
    .sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
}

export function stackPsText(rows: readonly StackPsRow[], opts: { json?: boolean | undefined; quiet?: boolean | undefined }): string {
  if (opts.quiet) return rows.map((r) => r.Name).join('\n') + (rows.length > 0 ? '\n' : '');
  if (opts.json) return rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length > 0 ? '\n' : '');
  return table(
    ['NAME', 'SERVICE', 'IMAGE', 'NODE', 'DESIRED STATE', 'CURRENT STATE', 'ERROR', 'PORTS'],
    rows.map((r) => [r.Name, r.Service, r.Image, r.Node, r.DesiredState, r.State, r.Error, r.Ports]),
  );
}

/** `images` of a stack: the image each service runs, as deployed (`name:tag@sha256:…` when pinned). */
export interface StackImageRow {
  /** The compose service. */
  readonly Service: string;
  readonly Repository: string;
  readonly Tag: string;
  /** `sha256:…`, or '' for an image deployed by tag. */
  readonly Digest: string;
  /** The reference the tasks run. */
  readonly Image: string;
}

export function stackImageRows(namespace: string, services: readonly SwarmService[], only: readonly string[] = []): StackImageRow[] {
  return services
    .map((s): StackImageRow => {
      const name = s.spec.Name ?? s.id;
      const image = s.spec.TaskTemplate?.ContainerSpec?.Image ?? '';
      const { name: repository, tag, digest } = splitReference(image);
      return {
        Service: name.startsWith(`${namespace}_`) ? name.slice(namespace.length + 1) : name,
        Repository: repository,
        Tag: tag ?? (digest ? '' : 'latest'),
        Digest: digest ?? '',
        Image: image,
      };
    })
    .filter((r) => only.length === 0 || only.includes(r.Service))
    .sort((a, b) => (a.Service < b.Service ? -1 : a.Service > b.Service ? 1 : 0));
}

export function stackImagesText(rows: readonly StackImageRow[], opts: { json?: boolean | undefined; quiet?: boolean | undefined }): string {
  if (opts.quiet) return [...new Set(rows.map((r) => r.Image))].map((i) => `${i}\n`).join('');
  if (opts.json) return `${JSON.stringify(rows)}\n`;
  return table(
    ['SERVICE', 'REPOSITORY', 'TAG', 'DIGEST'],
    rows.map((r) => [r.Service, r.Repository, r.Tag, r.Digest || '<none>']),
  );
}
