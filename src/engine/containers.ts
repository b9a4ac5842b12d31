/**
 * Finding a project's containers by label (compose `getContainers`), shared by the lifecycle use cases.
 */
import { TsComposeError } from '../errors.js';
import type { ContainerSummary, Runtime } from '../runtime/runtime.js';
import { LABEL_CONTAINER_NUMBER, LABEL_ONEOFF, LABEL_PROJECT, LABEL_SERVICE } from './labels.js';

export interface ContainerQuery {
  readonly services?: readonly string[] | undefined;
  /** Include one-off (`run`) containers. */
  readonly oneoff?: boolean | undefined;
  /** Only running ones. */
  readonly runningOnly?: boolean | undefined;
  readonly signal?: AbortSignal | undefined;
}

export const serviceOf = (c: ContainerSummary): string => c.labels[LABEL_SERVICE] ?? '';
export const numberOf = (c: ContainerSummary): number => Number(c.labels[LABEL_CONTAINER_NUMBER] ?? 0) || 0;
export const isOneoff = (c: ContainerSummary): boolean => c.labels[LABEL_ONEOFF] === 'True';

/** Sorted by service, number, name. */
export async function projectContainers(runtime: Runtime, project: string, q: ContainerQuery = {}): Promise<ContainerSummary[]> {
  const list = await runtime.listContainers({ all: !q.runningOnly, labels: { [LABEL_PROJECT]: project }, signal: q.signal });
  return list
    .filter((c) => c.labels[LABEL_SERVICE] !== undefined)
    .filter((c) => q.oneoff || !isOneoff(c))
    .filter((c) => !q.services || q.services.length === 0 || q.services.includes(serviceOf(c)))
    .filter((c) => !q.runningOnly || c.status === 'running')
    .sort((a, b) => (serviceOf(a) < serviceOf(b) ? -1 : serviceOf(a) > serviceOf(b) ? 1 : numberOf(a) - numberOf(b) || (a.name < b.name ? -1 : 1)));
}

/** The container `index` (1-based container number; default 1) of `service`, for exec/port/cp. */
export async function serviceContainer(
  runtime: Runtime,
  project: string,
  service: string,
  index = 1,
  signal?: AbortSignal,
): Promise<ContainerSummary> {
  const list = await projectContainers(runtime, project, { services: [service], signal });
  const running = list.filter((c) => c.status === 'running');
  const c = running.find((x) => numberOf(x) === index) ?? (index === 1 ? running[0] : undefined);
  if (!c) {
    throw new TsComposeError(
      'TSC_NOT_RUNNING',
      list.length === 0 ? `service "${service}" has no container` : `service "${service}" is not running container #${index}`,
    );
  }
  return c;
}
