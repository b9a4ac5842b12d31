/**
 * Content-aware recreate (issue 17): the files and inline sources a service's containers are made from, each with
 * a digest of its content, so that changing one recreates exactly the services that use it. docker compose hashes
 * only the service's own config and leaves a changed secret or config file unnoticed (docker/compose#11900).
 *
 * A service's inputs: each secret and config it references (top-level `file:` — a file or a directory —,
 * `content:` or `environment:`; external ones are not hashed), each `env_file` (a missing optional one is left
 * out) and each `label_file`. Each is named for the user: a file by its path relative to the project directory
 * (absolute when outside it), an inline source `secret:NAME (content)` or `config:NAME (environment VAR)`. The
 * digest is the hex SHA-256 of the bytes (`sha256sum FILE` prints the same), of a directory's sorted listing of
 * `type path digest-or-link-target` lines, or `missing` / `unset` for a file or variable that is not there (the
 * create then fails as before).
 *
 * Reading happens before reconcile (`readInputs`, called by `planUp` beside `observe`), which stays pure: the
 * digests reach it as `ObservedState.inputs`. They go into the config hash (src/project/hash.ts) and into the
 * container's `io.tscompose.inputs` label (name → digest, JSON), from which `configChange` tells which inputs changed.
 *
 * Upgrade: a container without the label (made before content-aware hashing) is compared with the hash without
 * inputs, the one its version wrote; so upgrading tscompose recreates nothing, and such a container notices content
 * changes only once it has been recreated for another reason (or `up --force-recreate`).
 *
 * The label shows digests of secrets: whoever can read a container's labels (the engine's API, root for the native
 * runtime) can also read the secret itself from the container, so it gives nobody anything new.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { TsComposeError } from '../errors.js';
import { serviceConfigHash, type InputDigests } from '../project/hash.js';
import type { FileObjectConfig, Project, ServiceConfig } from '../project/types.js';

export type InputKind = 'secret' | 'config' | 'env_file' | 'label_file';

/** Where an input's content comes from: a host path, or an inline value (undefined = the variable is unset). */
export type InputOrigin = { readonly path: string } | { readonly inline: string | undefined };

export interface InputSource {
  readonly name: string;
  readonly kind: InputKind;
  readonly from: InputOrigin;
}

export interface InputDigest {
  readonly name: string;
  readonly kind: InputKind;
  readonly digest: string;
}

/** Per service: its inputs, sorted by name, one entry per name. */
export type ServiceInputs = readonly InputDigest[];

/** The digest of a file or variable that is not there. */
export const MISSING = 'missing';
export const UNSET = 'unset';

/** `p` relative to the project directory when inside it, else absolute. */
export function inputName(p: string, workingDir: string | undefined): string {
  if (workingDir === undefined) return p;
  const rel = path.relative(workingDir, p);
  return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? p : rel.split(path.sep).join('/');
}

/** What a service's content depends on (see the header), without reading anything. */
export function serviceInputSources(project: Project, svc: ServiceConfig, workingDir?: string): InputSource[] {
  const out: InputSource[] = [];
  const fileObject = (kind: 'secret' | 'config', key: string, def: FileObjectConfig | undefined): void => {
    if (def === undefined || def.external === true) return;
    if (def.file !== undefined) out.push({ name: inputName(def.file, workingDir), kind, from: { path: def.file } });
    else if (def.content !== undefined) out.push({ name: `${kind}:${key} (content)`, kind, from: { inline: def.content } });
    else if (def.environment !== undefined)
      out.push({ name: `${kind}:${key} (environment ${def.environment})`, kind, from: { inline: def.environmentValue } });
  };
  for (const ref of svc.secrets ?? []) fileObject('secret', ref.source, project.secrets?.[ref.source]);
  for (const ref of svc.configs ?? []) fileObject('config', ref.source, project.configs?.[ref.source]);
  for (const f of svc.env_file ?? []) out.push({ name: inputName(f.path, workingDir), kind: 'env_file', from: { path: f.path } });
  for (const f of svc.label_file ?? []) out.push({ name: inputName(f, workingDir), kind: 'label_file', from: { path: f } });
  return out;
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

async function fileDigest(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** A directory's listing, depth first in name order: `d rel`, `f rel sha256`, `l rel target` lines. */
async function directoryDigest(dir: string): Promise<string> {
  const lines: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const names = (await fs.readdir(path.join(dir, rel))).sort(byteOrder);
    for (const n of names) {
      const r = rel === '' ? n : `${rel}/${n}`;
      const full = path.join(dir, r);
      const st = await fs.lstat(full);
      if (st.isDirectory()) {
        lines.push(`d ${JSON.stringify(r)}`);
        await walk(r);
      } else if (st.isSymbolicLink()) lines.push(`l ${JSON.stringify(r)} ${JSON.stringify(await fs.readlink(full))}`);
      else if (st.isFile()) lines.push(`f ${JSON.stringify(r)} ${await fileDigest(full)}`);
    }
  };
  await walk('');
  return sha256(lines.join('\n'));
}

/** The digest of a host path (followed if a link): a file's, a directory's listing, or `missing`. */
export async function pathDigest(p: string): Promise<string> {
  try {
    const st = await fs.stat(p);
    return st.isDirectory() ? await directoryDigest(p) : await fileDigest(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return MISSING;
    throw new TsComposeError('TSC_INPUT_UNREADABLE', `cannot read ${p} to tell whether it changed: ${(e as Error).message}`);
  }
}

/**
 * Reads the inputs of `services` (all of the project's by default). A file several services (or sources) use is
 * read once; an optional env_file that does not exist is left out.
 */
export async function readInputs(
  project: Project,
  options: { readonly services?: Iterable<string> | undefined; readonly workingDir?: string | undefined } = {},
): Promise<Record<string, ServiceInputs>> {
  const reads = new Map<string, Promise<string>>();
  const digestOf = (p: string): Promise<string> => {
    let d = reads.get(p);
    if (d === undefined) reads.set(p, (d = pathDigest(p)));
    return d;
  };
  const out: Record<string, ServiceInputs> = {};
  const names = [...(options.services ?? Object.keys(project.services))].sort(byteOrder);
  await Promise.all(
    names.map(async (s) => {
      const svc = project.services[s];
      if (svc === undefined) return;
      const optional = new Set((svc.env_file ?? []).filter((f) => f.required === false).map((f) => f.path));
      const entries = await Promise.all(
        serviceInputSources(project, svc, options.workingDir).map(async (src): Promise<InputDigest | undefined> => {
          if ('inline' in src.from)
            return { name: src.name, kind: src.kind, digest: src.from.inline === undefined ? UNSET : sha256(src.from.inline) };
          const digest = await digestOf(src.from.path);
          if (digest === MISSING && src.kind === 'env_file' && optional.has(src.from.path)) return undefined;
          return { name: src.name, kind: src.kind, digest };
        }),
      );
      const byName = new Map<string, InputDigest>();
      for (const e of entries) if (e !== undefined && !byName.has(e.name)) byName.set(e.name, e);
      out[s] = [...byName.values()].sort((a, b) => byteOrder(a.name, b.name));
    }),
  );
  return out;
}

/** name → digest. */
export function digestsOf(inputs: ServiceInputs): InputDigests {
  return Object.fromEntries(inputs.map((e) => [e.name, e.digest]));
}

/** The names whose digest differs between `before` and `now` (added and removed ones too), sorted. */
export function changedInputs(before: InputDigests, now: InputDigests): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(now)]);
  return [...names].filter((n) => before[n] !== now[n]).sort(byteOrder);
}

/** At most three names, then how many more. */
function listNames(names: readonly string[]): string {
  return names.length <= 3 ? names.join(', ') : `${names.slice(0, 3).join(', ')} and ${names.length - 3} more`;
}

/** Why a container's config is out of date: `config changed`, `a.txt changed`, `a.txt changed, config changed`. */
export type ConfigChange = `${string} changed`;

/** What reconcile knows of a container's config: its `config-hash` and `io.tscompose.inputs` labels. */
export interface RecordedConfig {
  readonly configHash: string | undefined;
  /** Absent on containers made before content-aware hashing. */
  readonly inputs?: InputDigests | undefined;
}

/**
 * Whether a container's config is out of date, and why (compose's config-hash rule, content-aware):
 * - the hash it records equals the service's hash with the current inputs (`current`; undefined when they were not
 *   read: then taken to be the recorded ones) → up to date;
 * - no inputs label (made before content-aware hashing) → compared with the hash without inputs (see the header);
 * - some inputs differ from the recorded ones → `a.txt, secret:s (content) changed`, plus `, config changed` when
 *   the rest of the service changed too (unless a changed env_file or label_file, whose content the service's
 *   environment or labels hold, explains it);
 * - else `config changed`.
 */
export function configChange(svc: ServiceConfig, recorded: RecordedConfig, current: ServiceInputs | undefined): ConfigChange | undefined {
  const now = current === undefined ? (recorded.inputs ?? {}) : digestsOf(current);
  if (recorded.configHash === serviceConfigHash(svc, now)) return undefined;
  if (recorded.inputs === undefined) return recorded.configHash === serviceConfigHash(svc) ? undefined : 'config changed';
  const changed = changedInputs(recorded.inputs, now);
  if (changed.length === 0) return 'config changed';
  const shownInConfig = new Set((current ?? []).filter((e) => e.kind === 'env_file' || e.kind === 'label_file').map((e) => e.name));
  const configToo = recorded.configHash !== serviceConfigHash(svc, recorded.inputs) && !changed.some((n) => shownInConfig.has(n));
  return `${listNames(changed)} changed${configToo ? ', config changed' : ''}`;
}
