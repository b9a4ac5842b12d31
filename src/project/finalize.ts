/**
 * After the merge: defaults that only make sense on the whole model (build context, depends_on condition,
 * IPAM), environment and label files read into `environment` and `labels`, stable order for extra_hosts.
 */
import { existsSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { FileNotFoundError, formatPosition, type SourcePosition } from '../errors.js';
import { readDotenvFile } from './dotenv.js';
import { isPlainObject } from './yaml.js';

type Obj = Record<string, unknown>;

export interface FinalizeContext {
  readonly env: Readonly<Record<string, string>>;
  readonly home: string;
  readonly workingDir: string;
  /** Missing env/label files: an error (default), or a warning when only rendering (`config`). */
  readonly missingFile?: (message: string, file: string) => void;
  /** false: env_file is not read into `environment` (`config --no-env-resolution`). */
  readonly readEnvFiles?: boolean;
  /** false: paths are as written (`config --no-path-resolution`): the build context defaults to `.`, files are read relative to workingDir. */
  readonly resolvePaths?: boolean;
  /** Where a path of the merged model was written (for messages). */
  readonly locate?: (path: readonly (string | number)[]) => SourcePosition;
}

function missing(ctx: FinalizeContext, message: string, file: string, at: readonly (string | number)[]): void {
  const pos = ctx.locate?.(at);
  if (ctx.missingFile) ctx.missingFile(pos?.line !== undefined ? `${formatPosition(pos)}: ${message}` : message, file);
  else throw new FileNotFoundError(message, pos?.line !== undefined ? pos : { file });
}

export function finalizeProject(model: Obj, ctx: FinalizeContext): Obj {
  const out: Obj = { ...model };
  const services: Obj = {};
  for (const [name, svc] of Object.entries(isPlainObject(model.services) ? model.services : {}))
    services[name] = finalizeService(name, isPlainObject(svc) ? svc : {}, ctx);
  out.services = services;
  if (isPlainObject(model.networks)) {
    const nets: Obj = {};
    for (const [name, n] of Object.entries(model.networks)) {
      const net: Obj = isPlainObject(n) ? { ...n } : {};
      if (!isPlainObject(net.ipam)) net.ipam = {};
      nets[name] = net;
    }
    out.networks = nets;
  }
  return out;
}

function finalizeService(name: string, svc: Obj, ctx: FinalizeContext): Obj {
  const out: Obj = { ...svc };
  if (isPlainObject(out.build) && out.build.context === undefined)
    out.build = { context: ctx.resolvePaths === false ? '.' : ctx.workingDir, ...out.build };
  if (isPlainObject(out.depends_on)) {
    const deps: Obj = {};
    for (const [name, d] of Object.entries(out.depends_on)) {
      const dep = isPlainObject(d) ? d : {};
      const entry: Obj = { condition: dep.condition ?? 'service_started', required: dep.required ?? true };
      if (dep.restart === true) entry.restart = true;
      deps[name] = entry;
    }
    out.depends_on = deps;
  }
  if (Array.isArray(out.extra_hosts)) out.extra_hosts = sortHosts(out.extra_hosts.map(String));
  if (Array.isArray(out.env_file) || isPlainObject(out.environment)) {
    const env = resolveEnvironment(name, out, ctx);
    if (env !== undefined) out.environment = env;
  }
  if (Array.isArray(out.label_file)) {
    const labels: Record<string, string> = {};
    for (const [i, file] of out.label_file.map(String).entries()) {
      if (!existsSync(resolvePath(ctx.workingDir, file))) {
        missing(ctx, `label file ${file} not found`, file, ['services', name, 'label_file', i]);
        continue;
      }
      Object.assign(
        labels,
        readDotenvFile(resolvePath(ctx.workingDir, file), (k) => ctx.env[k]),
      );
    }
    out.labels = { ...labels, ...(isPlainObject(out.labels) ? out.labels : {}) };
  }
  return out;
}

/** env_file values, then `environment:` over them; a key without value takes the project environment's value. */
function resolveEnvironment(name: string, svc: Obj, ctx: FinalizeContext): Record<string, string | null> | undefined {
  const fromFiles: Record<string, string> = {};
  for (const [i, f] of (Array.isArray(svc.env_file) && ctx.readEnvFiles !== false ? svc.env_file : []).entries()) {
    const ef = isPlainObject(f) ? f : { path: String(f) };
    const path = String(ef.path);
    if (!existsSync(resolvePath(ctx.workingDir, path))) {
      if (ef.required === false) continue;
      missing(ctx, `env file ${path} not found`, path, ['services', name, 'env_file', i]);
      continue;
    }
    Object.assign(
      fromFiles,
      readDotenvFile(resolvePath(ctx.workingDir, path), (k) => fromFiles[k] ?? ctx.env[k], ef.format === 'raw'),
    );
  }
  const out: Record<string, string | null> = { ...fromFiles };
  for (const [k, v] of Object.entries(isPlainObject(svc.environment) ? svc.environment : {})) {
    if (v !== null && v !== undefined) out[k] = String(v);
    else if (ctx.env[k] !== undefined) out[k] = ctx.env[k];
    else if (!(k in fromFiles)) out[k] = null;
  }
  return Object.keys(out).length > 0 || isPlainObject(svc.environment) ? out : undefined;
}

/** Stable order by host name, duplicates dropped (compose-go keeps hosts as a map of host → addresses). */
function sortHosts(hosts: string[]): string[] {
  const unique = [...new Set(hosts)];
  const host = (h: string): string => h.split('=')[0]!;
  return unique
    .map((h, i) => [h, i] as const)
    .sort((a, b) => (host(a[0]) < host(b[0]) ? -1 : host(a[0]) > host(b[0]) ? 1 : a[1] - b[1]))
    .map(([h]) => h);
}
