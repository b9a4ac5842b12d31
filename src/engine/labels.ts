/**
 * docker compose's label names (`pkg/api/labels.go`) and resource naming, so that `docker compose` and
 * tscompose see the same projects. Resources are always found by label, never by name. tscompose's own labels
 * are named `io.tscompose.*`.
 */
import { createHash } from 'node:crypto';
import { serviceDependencies } from '../project/dependencies.js';
import { stableStringify } from '../project/hash.js';
import type { NetworkConfig, Project, ServiceConfig, VolumeConfig } from '../project/types.js';

const P = 'com.docker.compose';
export const LABEL_PROJECT = `${P}.project`;
export const LABEL_SERVICE = `${P}.service`;
export const LABEL_CONTAINER_NUMBER = `${P}.container-number`;
export const LABEL_ONEOFF = `${P}.oneoff`;
export const LABEL_SLUG = `${P}.slug`;
export const LABEL_CONFIG_HASH = `${P}.config-hash`;
export const LABEL_IMAGE = `${P}.image`;
export const LABEL_DEPENDS_ON = `${P}.depends_on`;
export const LABEL_VERSION = `${P}.version`;
export const LABEL_WORKING_DIR = `${P}.project.working_dir`;
export const LABEL_CONFIG_FILES = `${P}.project.config_files`;
export const LABEL_ENVIRONMENT_FILE = `${P}.project.environment_file`;
export const LABEL_REPLACE = `${P}.replace`;
export const LABEL_NETWORK = `${P}.network`;
export const LABEL_VOLUME = `${P}.volume`;
/** tscompose's own: the digests of a container's inputs (src/engine/inputs.ts), `{"name":"digest",…}`. */
export const LABEL_INPUTS = 'io.tscompose.inputs';

/** Written to `com.docker.compose.version`. */
export const TSCOMPOSE_VERSION = '0.1.0';

export const SEPARATOR = '-';

/** `project-service-N` (or `container_name`). */
export function containerName(project: string, service: string, number: number, svc?: ServiceConfig): string {
  return svc?.container_name ?? [project, service, String(number)].join(SEPARATOR);
}

/** `project-service-run-<slug>` for one-off containers. */
export function oneoffContainerName(project: string, service: string, slug: string): string {
  return [project, service, 'run', slug.slice(0, 12)].join(SEPARATOR);
}

/** The engine name of a project network: `name:`, else the key for external ones, else `project_key`. */
export function networkName(project: string, key: string, config?: NetworkConfig): string {
  if (config?.name) return config.name;
  return config?.external ? key : `${project}_${key}`;
}

/** The engine name of a project volume: `name:`, else the key for external ones, else `project_key`. */
export function volumeName(project: string, key: string, config?: VolumeConfig): string {
  if (config?.name) return config.name;
  return config?.external ? key : `${project}_${key}`;
}

/** `compose` label value `"True"` / `"False"`. */
export const boolLabel = (b: boolean): string => (b ? 'True' : 'False');

/** `db:service_healthy:true,redis:service_started:false` (name:condition:restart), names sorted. */
export function dependsOnLabel(svc: ServiceConfig): string {
  return [...serviceDependencies(svc)]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, d]) => `${name}:${d.condition}:${d.restart === true ? 'true' : 'false'}`)
    .join(',');
}

export interface ParsedDependsOn {
  readonly service: string;
  readonly condition: string;
  readonly restart: boolean;
}

export function parseDependsOnLabel(value: string): ParsedDependsOn[] {
  if (value === '') return [];
  return value.split(',').map((part) => {
    const [service = '', condition = 'service_started', restart = 'false'] = part.split(':');
    return { service, condition, restart: restart === 'true' };
  });
}

/** The `io.tscompose.inputs` value: name → digest as JSON, names sorted. */
export function inputsLabel(digests: Readonly<Record<string, string>>): string {
  return stableStringify(digests);
}

/** An `io.tscompose.inputs` value read back; undefined when absent or not an object of strings. */
export function parseInputsLabel(value: string | undefined): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    const entries = Object.entries(parsed as Record<string, unknown>);
    return entries.every(([, v]) => typeof v === 'string') ? Object.fromEntries(entries as [string, string][]) : undefined;
  } catch {
    return undefined;
  }
}

/** SHA-256 of a network/volume config as stable JSON (compose's NetworkHash / VolumeHash, same label). */
export function resourceConfigHash(config: NetworkConfig | VolumeConfig | undefined): string {
  return createHash('sha256')
    .update(stableStringify(config ?? {}))
    .digest('hex');
}

/** Where the project was loaded from (for the `project.*` labels). */
export interface ProjectOrigin {
  readonly workingDir?: string;
  readonly configFiles?: readonly string[];
  readonly envFiles?: readonly string[];
}

export function projectLabels(project: Project, origin: ProjectOrigin = {}): Record<string, string> {
  const labels: Record<string, string> = { [LABEL_PROJECT]: project.name, [LABEL_VERSION]: TSCOMPOSE_VERSION };
  if (origin.workingDir !== undefined) labels[LABEL_WORKING_DIR] = origin.workingDir;
  if (origin.configFiles && origin.configFiles.length > 0) labels[LABEL_CONFIG_FILES] = origin.configFiles.join(',');
  if (origin.envFiles && origin.envFiles.length > 0) labels[LABEL_ENVIRONMENT_FILE] = origin.envFiles.join(',');
  return labels;
}

/** Selector for every resource of a project. */
export const projectSelector = (project: string): Record<string, string> => ({ [LABEL_PROJECT]: project });

/** The image a service runs: `image:`, else the build-only name `project-service`. */
export function serviceImage(project: string, service: string, svc: ServiceConfig): string {
  return svc.image ?? `${project}${SEPARATOR}${service}`;
}
