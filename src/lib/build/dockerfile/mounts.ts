/**
 * `RUN --mount=…` as BuildKit's instructions/commands_runmount.go (ParseMount): comma-separated fields (CSV, so a
 * field may be quoted), `key=value` with the keys lower-cased and each value passed through the expander (the
 * stage's variables), `ro`/`readonly`, `rw`/`readwrite` and `required` also bare. The type defaults to `bind`;
 * `ro` defaults to true for bind/secret/ssh and false for cache/tmpfs; cache sharing defaults to `shared`;
 * `mode`/`uid`/`gid` only for cache/secret/ssh; a secret has no `from` and needs an id, source or target.
 * The defaults BuildKit applies later (dockerfile2llb): a cache's id is its target, a secret's id is the base
 * name of its target and its target is /run/secrets/<id> — filled in here too.
 */
import path from 'node:path';

export type MountType = 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';
export type CacheSharing = 'shared' | 'private' | 'locked';

export interface BindMount {
  readonly type: 'bind';
  readonly target: string;
  /** A stage name or index, an image, or '' for the build context. */
  readonly from: string;
  readonly source: string;
  readonly readOnly: boolean;
}
export interface CacheMount {
  readonly type: 'cache';
  readonly id: string;
  readonly target: string;
  readonly sharing: CacheSharing;
  readonly readOnly: boolean;
  readonly from: string;
  readonly source: string;
  readonly mode: number | undefined;
  readonly uid: number | undefined;
  readonly gid: number | undefined;
}
export interface TmpfsMount {
  readonly type: 'tmpfs';
  readonly target: string;
  readonly size: number | undefined;
}
export interface SecretMount {
  readonly type: 'secret';
  readonly id: string;
  readonly target: string;
  /** `env=NAME`: the secret is also (or only) given as an environment variable. */
  readonly env: string | undefined;
  readonly required: boolean;
  readonly mode: number | undefined;
  readonly uid: number | undefined;
  readonly gid: number | undefined;
}
export interface SshMount {
  readonly type: 'ssh';
  readonly id: string;
  readonly target: string;
  readonly required: boolean;
}
export type Mount = BindMount | CacheMount | TmpfsMount | SecretMount | SshMount;

const TYPES = new Set<string>(['bind', 'cache', 'tmpfs', 'secret', 'ssh']);

/** Splits a CSV record (Go's encoding/csv with one line): commas, double-quoted fields with "" for a quote. */
export function csvFields(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (s[i] === '"') {
      i++;
      for (;;) {
        if (i >= s.length) throw new Error(`extraneous or missing " in quoted-field`);
        if (s[i] === '"') {
          if (s[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += s[i++];
      }
      if (i < s.length && s[i] !== ',') throw new Error(`extraneous or missing " in quoted-field`);
    } else {
      const end = s.indexOf(',', i);
      field = end < 0 ? s.slice(i) : s.slice(i, end);
      i = end < 0 ? s.length : end;
    }
    out.push(field);
    if (i >= s.length) return out;
    i++; // the comma
  }
}

function parseUint(value: string, radix: number, key: string): number {
  const re = radix === 8 ? /^[0-7]+$/ : /^\d+$/;
  const n = parseInt(value, radix);
  if (!re.test(value) || n > 0xffffffff) throw new Error(`invalid value for ${key}: ${value}`);
  return n;
}

function parseBool(value: string): boolean {
  if (/^(1|t|T|TRUE|true|True)$/.test(value)) return true;
  if (/^(0|f|F|FALSE|false|False)$/.test(value)) return false;
  throw new Error(`invalid boolean value: ${value}`);
}

/** Parses one `--mount` value; `expand` expands each value (the identity by default). Throws an Error. */
export function parseMount(spec: string, expand: (word: string) => string = (w) => w): Mount {
  let type = 'bind';
  let readOnly: boolean | undefined;
  let required = false;
  let from = '';
  let source = '';
  let target = '';
  let id = '';
  let sharing = '';
  let env: string | undefined;
  let mode: number | undefined;
  let uid: number | undefined;
  let gid: number | undefined;
  let size: number | undefined;
  for (const field of csvFields(spec)) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    if (eq < 0) {
      if (key === 'readonly' || key === 'ro') readOnly = true;
      else if (key === 'readwrite' || key === 'rw') readOnly = false;
      else if (key === 'required' && (type === 'secret' || type === 'ssh')) required = true;
      else if (key === 'required') throw new Error(`unexpected key '${key}' for mount type '${type}'`);
      else throw new Error(`invalid field '${field}' must be a key=value pair`);
      continue;
    }
    const value = expand(field.slice(eq + 1));
    switch (key) {
      case 'type':
        if (!TYPES.has(value.toLowerCase())) throw new Error(`unsupported mount type "${value}"`);
        type = value.toLowerCase();
        break;
      case 'from':
        from = value;
        break;
      case 'source':
      case 'src':
        source = value;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        target = value;
        break;
      case 'readonly':
      case 'ro':
        readOnly = parseBool(value);
        break;
      case 'readwrite':
      case 'rw':
        readOnly = !parseBool(value);
        break;
      case 'required':
        if (type !== 'secret' && type !== 'ssh') throw new Error(`unexpected key '${key}' for mount type '${type}'`);
        required = parseBool(value);
        break;
      case 'id':
        id = value;
        break;
      case 'sharing':
        if (type !== 'cache') throw new Error(`invalid cache sharing set for ${type} mount`);
        if (!['shared', 'private', 'locked'].includes(value.toLowerCase())) {
          throw new Error(`unsupported sharing value "${value}"`);
        }
        sharing = value.toLowerCase();
        break;
      case 'mode':
        mode = parseUint(value, 8, key);
        break;
      case 'uid':
        uid = parseUint(value, 10, key);
        break;
      case 'gid':
        gid = parseUint(value, 10, key);
        break;
      case 'size':
        size = parseUint(value, 10, key);
        break;
      case 'env':
        env = value;
        break;
      default:
        throw new Error(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (!['secret', 'ssh', 'cache'].includes(type)) {
    if (mode !== undefined) throw new Error(`mode not allowed for "${type}" type mounts`);
    if (uid !== undefined) throw new Error(`uid not allowed for "${type}" type mounts`);
    if (gid !== undefined) throw new Error(`gid not allowed for "${type}" type mounts`);
  }
  const ro = readOnly ?? !(type === 'cache' || type === 'tmpfs');
  switch (type) {
    case 'cache':
      if (target === '') throw new Error('mount type cache requires a target');
      return { type, id: id || target, target, sharing: (sharing || 'shared') as CacheSharing, readOnly: ro, from, source, mode, uid, gid };
    case 'tmpfs':
      if (target === '') throw new Error('mount type tmpfs requires a target');
      return { type, target, size };
    case 'secret': {
      if (from !== '') throw new Error('secret mount should not have a from');
      if (source === '' && target === '' && id === '') {
        throw new Error('invalid secret mount. one of source, target required');
      }
      if (source !== '' && id !== '') throw new Error("both source and id can't be set");
      const sid = id || source || path.posix.basename(target);
      return {
        type,
        id: sid,
        target: target || (env !== undefined ? '' : `/run/secrets/${sid}`),
        env,
        required,
        mode,
        uid,
        gid,
      };
    }
    case 'ssh':
      return { type, id: id || 'default', target: target || '/run/buildkit/ssh_agent.0', required };
    default:
      if (target === '') throw new Error('mount type bind requires a target');
      return { type: 'bind', target, from, source, readOnly: ro };
  }
}
