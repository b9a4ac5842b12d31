/**
 * `config` output: the canonical project as YAML or JSON in the shape of `docker compose config`.
 * Map keys are sorted (deterministic output); `$` is escaped as `$$` so the output loads back to the same
 * project; JSON carries `command`/`entrypoint` (null when unset) and leaves out nested `x-*` extensions,
 * as compose-go's JSON does. YAML leaves out a network's empty `ipam` (compose-go's `yaml:"ipam,omitempty"` drops
 * the empty struct; its JSON keeps `"ipam": {}`).
 */
import { dumpYamlByEntry } from './yaml-scalars.js';
import type { Project } from './types.js';

type Obj = Record<string, unknown>;

const TOP_ORDER = ['name', 'services', 'networks', 'volumes', 'secrets', 'configs', 'models'];

export interface SerializeOptions {
  /** Escape `$` as `$$` (default true; false for --no-interpolate output, which still has its variables). */
  readonly escapeDollar?: boolean;
}

export function projectToData(project: Project, format: 'json' | 'yaml', opts: SerializeOptions = {}): Obj {
  const escape = opts.escapeDollar !== false;
  const out: Obj = {};
  const keys = Object.keys(project).sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  for (const key of keys) {
    const value = (project as unknown as Obj)[key];
    if (value === undefined) continue;
    if (key !== 'name' && key !== 'services' && !key.startsWith('x-') && isEmptyMap(value)) continue;
    if (key === 'services') {
      const services: Obj = {};
      for (const name of Object.keys(value as Obj).sort()) services[name] = serviceData((value as Obj)[name], format, escape);
      out.services = services;
    } else {
      out[key] = normalize(
        key === 'networks' && format === 'yaml' ? withoutEmptyIpam(value as Obj) : value,
        format,
        key.startsWith('x-') ? 0 : 1,
        escape,
      );
    }
  }
  return out;
}

export function projectToJson(project: Project, opts: SerializeOptions = {}): string {
  return JSON.stringify(projectToData(project, 'json', opts), null, 2) + '\n';
}

export function projectToYaml(project: Project, opts: SerializeOptions = {}): string {
  // A service at a time: normalised, dumped and dropped before the next (the peak RSS of a large project's config).
  const services = project.services as unknown as Obj;
  const data = projectToData({ ...project, services: {} }, 'yaml', opts);
  const escape = opts.escapeDollar !== false;
  return dumpYamlByEntry(data, {
    *services() {
      for (const name of Object.keys(services).sort()) yield [name, serviceData(services[name], 'yaml', escape)] as const;
    },
  });
}

function serviceData(service: unknown, format: 'json' | 'yaml', escape: boolean): Obj {
  const svc = normalize(service, format, 1, escape) as Obj;
  if (format === 'yaml') return svc; // normalize sorted its keys
  if (!('command' in svc)) svc.command = null;
  if (!('entrypoint' in svc)) svc.entrypoint = null;
  return sortKeys(svc);
}

function withoutEmptyIpam(networks: Obj): Obj {
  const out: Obj = {};
  for (const [name, n] of Object.entries(networks)) {
    if (typeof n === 'object' && n !== null && isEmptyMap((n as Obj).ipam)) {
      const { ipam: _empty, ...rest } = n as Obj;
      out[name] = rest;
    } else out[name] = n;
  }
  return out;
}

function rank(key: string): number {
  const i = TOP_ORDER.indexOf(key);
  return i < 0 ? TOP_ORDER.length : i;
}

function isEmptyMap(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
}

/** Sorted keys, `$` escaped, nested x-* dropped for JSON (depth > 0 means inside a top-level section). */
function normalize(value: unknown, format: 'json' | 'yaml', depth: number, escape: boolean): unknown {
  if (typeof value === 'string') return escape ? value.replaceAll('$', () => '$$') : value;
  if (Array.isArray(value)) return value.map((v) => normalize(v, format, depth + 1, escape));
  if (typeof value === 'object' && value !== null) {
    const out: Obj = {};
    for (const k of Object.keys(value).sort()) {
      if (format === 'json' && depth > 0 && k.startsWith('x-')) continue;
      const v = (value as Obj)[k];
      if (v !== undefined) out[k] = normalize(v, format, depth + 1, escape);
    }
    return out;
  }
  return value;
}

function sortKeys(o: Obj): Obj {
  const out: Obj = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k];
  return out;
}
