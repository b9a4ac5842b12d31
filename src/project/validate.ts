/**
 * Phase 3: schema validation of one file's data (after interpolation and type casts) against
 * `schemas/compose-spec.json`.
 *
 * The validator is generated at build time (`npm run build:schema` → `schemas/compose-spec.validator.js`,
 * Ajv standalone code), so no Ajv compile is paid at startup. It reports every error (allErrors) with the
 * failing schema node (verbose); this module turns Ajv's raw list into one issue per place in the file:
 *
 * - alternatives (`anyOf`): when the value matches one alternative's type, only that alternative's errors are
 *   kept (`ports[0].foo: additional property "foo" is not allowed`, not also "must be a number"); when it matches
 *   none, one "must be X or Y" message replaces the per-alternative type errors;
 * - schema nodes may carry an `x-message` annotation, used when the value fails that node as a whole;
 * - unknown keys and invalid names are reported at the key's own path and position.
 *
 * `Tagged` values: `!override X` is validated as X; `!reset …` (whatever it holds) and `!override null` remove the
 * key, as the merge phase will (compose-go drops `!reset` paths before validating).
 */
import { ConfigValidationError, type SchemaIssue, type SourcePosition } from '../errors.js';
import { validate as compiledValidator, schema as loadSchema, type SchemaValidationError } from '../../schemas/compose-spec.validator.js';
import { didYouMean } from './suggest.js';
import { Tagged, type ParsedYaml, type PathSeg } from './yaml.js';

/** A value found to be of the wrong type before validation (a string that does not cast to its type, ./cast.ts). */
export interface TypeIssue {
  readonly path: readonly PathSeg[];
  readonly message: string;
}

/**
 * Validates `data`; throws {@link ConfigValidationError} listing every problem, positioned in `source` and sorted
 * by position. `typeIssues` (found earlier in the same file) are listed with them, in place of what the schema
 * says of the same values.
 */
export function validateSchema(data: unknown, source: Pick<ParsedYaml, 'file' | 'locate'>, typeIssues: readonly TypeIssue[] = []): void {
  const indexMaps = new WeakMap<readonly unknown[], readonly number[]>();
  let value = stripTags(data, indexMaps);
  // An empty document (only comments) is an empty mapping; whether that is a usable project is not the schema's call.
  if (value === ABSENT || value === null) value = {};
  const valid = compiledValidator(value);
  if (valid && typeIssues.length === 0) return;
  const issues = valid ? [] : explain(compiledValidator.errors ?? [], value, indexMaps, source);
  if (typeIssues.length > 0) {
    const typed = typeIssues.map((t) => ({ path: formatPath(t.path), message: t.message, position: position(source, t.path, false) }));
    const paths = new Set(typed.map((t) => t.path));
    issues.splice(0, issues.length, ...issues.filter((i) => !paths.has(i.path)), ...typed);
    issues.sort(byPosition);
  }
  if (issues.length === 0) issues.push({ path: '(root)', message: 'does not match the Compose schema', position: { file: source.file } });
  throw new ConfigValidationError(issues, source.file);
}

// ---------------------------------------------------------------------------------------------- Tagged values

const ABSENT: unique symbol = Symbol('absent');

/**
 * Returns `v` without Tagged markers (`!override` stands for its value; `!reset`, a tag holding null, or an
 * undefined value removes the key or list item). Unchanged subtrees are returned as they are, so untagged data is not copied.
 * When list items are removed, `indexMaps` maps the new indexes back to the original ones.
 */
function stripTags(v: unknown, indexMaps: WeakMap<readonly unknown[], readonly number[]>): unknown {
  if (v instanceof Tagged) {
    // `!reset` removes the key whatever it holds (compose-go drops reset paths before validating).
    if (v.tag === 'reset' || v.value === null || v.value === undefined) return ABSENT;
    return stripTags(v.value, indexMaps);
  }
  if (v === undefined) return ABSENT;
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    let origin: number[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const item = stripTags(v[i], indexMaps);
      if (out === undefined && item !== v[i]) {
        out = v.slice(0, i);
        origin = out.map((_, j) => j);
      }
      if (out !== undefined && item !== ABSENT) {
        out.push(item);
        origin!.push(i);
      }
    }
    if (out === undefined) return v;
    if (origin!.some((o, j) => o !== j)) indexMaps.set(out, origin!);
    return out;
  }
  if (typeof v === 'object' && v !== null) {
    const obj = v as Record<string, unknown>;
    let out: Record<string, unknown> | undefined;
    for (const key of Object.keys(obj)) {
      const item = stripTags(obj[key], indexMaps);
      if (out === undefined && item !== obj[key]) out = { ...obj };
      if (out !== undefined) {
        if (item === ABSENT) delete out[key];
        else out[key] = item;
      }
    }
    return out ?? v;
  }
  return v;
}

// ---------------------------------------------------------------------------------------------- error selection

type Schema = Readonly<Record<string, unknown>>;

/** An Ajv error placed at a path in the original data. */
interface Located {
  readonly error: SchemaValidationError;
  /** Path of the value the error is about (for unknown keys and bad names: the key's own path). */
  readonly path: readonly PathSeg[];
  /** Path of the value Ajv validated (the error's instancePath), for grouping alternatives. */
  readonly at: string;
  /** Position on the key rather than on the value. */
  readonly onKey: boolean;
}

const WRAPPERS = new Set(['anyOf', 'oneOf', 'propertyNames', 'if', 'not']);
const SCALAR_KEYWORDS = new Set(['pattern', 'format', 'enum', 'const', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf']);

function explain(
  errors: readonly SchemaValidationError[],
  root: unknown,
  indexMaps: WeakMap<readonly unknown[], readonly number[]>,
  source: Pick<ParsedYaml, 'file' | 'locate'>,
): SchemaIssue[] {
  const segsOf = (pointer: string): PathSeg[] => toOriginalPath(pointer, root, indexMaps);

  const leaves: Located[] = [];
  const wrappersAt = new Map<string, SchemaValidationError[]>();
  for (const e of errors) {
    if (WRAPPERS.has(e.keyword) && e.propertyName === undefined) {
      const list = wrappersAt.get(e.instancePath) ?? [];
      list.push(e);
      wrappersAt.set(e.instancePath, list);
      continue;
    }
    const base = segsOf(e.instancePath);
    if (e.propertyName !== undefined) {
      leaves.push({ error: e, path: [...base, e.propertyName], at: e.instancePath, onKey: true });
    } else if (e.keyword === 'additionalProperties') {
      leaves.push({ error: e, path: [...base, String(e.params.additionalProperty)], at: e.instancePath, onKey: true });
    } else if (e.keyword === 'uniqueItems') {
      const dup = Math.max(Number(e.params.i), Number(e.params.j));
      leaves.push({ error: e, path: segsOf(`${e.instancePath}/${dup}`), at: e.instancePath, onKey: false });
    } else {
      leaves.push({ error: e, path: base, at: e.instancePath, onKey: false });
    }
  }

  // Group leaves by the value Ajv was looking at; decide per group which errors speak for it.
  const groups = new Map<string, Located[]>();
  for (const l of leaves) {
    const list = groups.get(l.at) ?? [];
    list.push(l);
    groups.set(l.at, list);
  }
  const hasDeeper = (at: string): boolean => {
    const prefix = at + '/';
    for (const l of leaves) {
      if (l.at.startsWith(prefix)) return true;
      if (l.at === at && (l.onKey || l.error.keyword === 'uniqueItems')) return true;
    }
    return false;
  };

  const issues: SchemaIssue[] = [];
  const seen = new Set<string>();
  const emit = (path: readonly PathSeg[], message: string, onKey: boolean): void => {
    const shown = formatPath(path);
    const id = `${shown}\0${message}`;
    if (seen.has(id)) return;
    seen.add(id);
    issues.push({ path: shown, message, position: position(source, path, onKey) });
  };

  for (const [at, group] of groups) {
    const wrappers = wrappersAt.get(at) ?? [];
    const located = group.filter((l) => l.onKey || l.error.keyword === 'uniqueItems');
    const plain = group.filter((l) => !(l.onKey || l.error.keyword === 'uniqueItems'));
    // Errors from schema nodes whose type the value has (as opposed to alternatives it is not).
    const matched = plain.filter((l) => l.error.keyword !== 'type' && typeMatches(l.error.data, l.error.parentSchema?.type));
    for (const l of located) emit(l.path, leafMessage(l.error, l.path), true);
    if (plain.length === 0) continue;
    const path = plain[0]!.path;

    if (hasDeeper(at)) {
      // The value took an alternative whose inner parts failed: what it says about the value itself still counts.
      for (const l of matched) emit(path, leafMessage(l.error, path), false);
      continue;
    }
    // A summarised alternative ("must be a boolean") speaks for scalar mismatches, not for a mapping that
    // misses a required key (ulimits `nofile: {soft: 1}`).
    const summary = [...wrappers].reverse().find((w) => typeof w.parentSchema?.['x-message'] === 'string');
    if (summary && matched.every((l) => SCALAR_KEYWORDS.has(l.error.keyword) && !isSafeBound(l.error))) {
      emit(path, summary.parentSchema!['x-message'] as string, false);
    } else if (matched.length > 0) {
      for (const l of matched) emit(path, leafMessage(l.error, path), false);
    } else if (wrappers.length > 0) {
      emit(path, `must be ${describe(wrappers[wrappers.length - 1]!.parentSchema ?? {})}`, false);
    } else {
      // One schema node and a value of another type: its enum or summary says more than "must be a string".
      const allowed = plain.map((l) => l.error.parentSchema?.enum).find(Array.isArray);
      const custom = plain[0]!.error.parentSchema?.['x-message'];
      if (allowed) emit(path, `must be one of: ${allowed.map(showValue).join(', ')}`, false);
      else if (typeof custom === 'string' && custom.startsWith('must be ')) emit(path, custom, false);
      else emit(path, leafMessage(plain[0]!.error, path), false);
    }
  }

  // Keys Ajv only reported through a wrapper (no leaf at that place): say something rather than nothing.
  for (const [at, wrappers] of wrappersAt) {
    if (groups.has(at) || hasDeeper(at)) continue;
    const w = wrappers[wrappers.length - 1]!;
    const path = segsOf(at);
    const msg =
      typeof w.parentSchema?.['x-message'] === 'string' ? (w.parentSchema['x-message'] as string) : `must be ${describe(w.parentSchema ?? {})}`;
    emit(path, msg, false);
  }

  return issues.sort(byPosition);
}

/** The schema bounds numbers to ±(2^53-1): beyond, a JavaScript number (and what tscompose would print) is not exact. */
function isSafeBound(e: SchemaValidationError): boolean {
  return (e.keyword === 'minimum' || e.keyword === 'maximum') && Math.abs(Number(e.params.limit)) === Number.MAX_SAFE_INTEGER;
}

function leafMessage(e: SchemaValidationError, path: readonly PathSeg[]): string {
  const custom = e.parentSchema?.['x-message'];
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(e.params.additionalProperty);
      const known = e.parentSchema?.properties;
      const hint = typeof known === 'object' && known !== null ? didYouMean(key, Object.keys(known)) : '';
      return `additional property ${JSON.stringify(key)} is not allowed${hint}`;
    }
    case 'required':
      return `missing required property ${JSON.stringify(String(e.params.missingProperty))}`;
    case 'enum': {
      const allowed = e.params.allowedValues as unknown[];
      const hint =
        typeof e.data === 'string'
          ? didYouMean(
              e.data,
              allowed.filter((v): v is string => typeof v === 'string'),
            )
          : '';
      return `must be one of: ${allowed.map(showValue).join(', ')}${hint}`;
    }
    case 'const':
      return `must be ${showValue(e.params.allowedValue)}`;
    case 'type':
      return `must be ${describe(e.parentSchema ?? { type: e.params.type })}`;
    case 'uniqueItems': {
      const first = Math.min(Number(e.params.i), Number(e.params.j));
      return `duplicate item (same as item [${first}])`;
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      if (isSafeBound(e)) return `must be between -${Number.MAX_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER} (a larger number is not exact)`;
      return `must be ${e.params.comparison} ${e.params.limit}`;
  }
  if (e.propertyName !== undefined) {
    const what = nameKind(path);
    const why = typeof custom === 'string' ? custom : (e.message ?? 'is not allowed');
    return `invalid ${what} ${JSON.stringify(e.propertyName)}: ${why}`;
  }
  const hint = e.keyword === 'pattern' && typeof e.data === 'string' ? didYouMean(e.data, patternWords(String(e.params.pattern))) : '';
  if (typeof custom === 'string') return custom + hint;
  if (e.keyword === 'pattern') return `must match the pattern ${String(e.params.pattern)}${hint}`;
  return e.message ?? `fails ${e.keyword}`;
}

/** What kind of name a map key is, from the map it sits in. */
function nameKind(path: readonly PathSeg[]): string {
  const parent = path.length >= 2 ? path[path.length - 2] : undefined;
  const top = path.length === 2;
  const kinds: Record<string, string> = {
    services: 'service',
    networks: 'network',
    volumes: 'volume',
    configs: 'config',
    secrets: 'secret',
    models: 'model',
  };
  if (top && typeof parent === 'string' && kinds[parent]) return `${kinds[parent]} name`;
  if (parent === 'depends_on') return 'service name';
  if (parent === 'networks') return 'network name';
  if (parent === 'models') return 'model name';
  if (parent === 'ulimits') return 'ulimit name';
  return 'key';
}

/**
 * The words a pattern of alternatives allows, for "did you mean": `^(no|always|on-failure(:[0-9]+)?)$` → no,
 * always, on-failure. Other patterns give none.
 */
function patternWords(pattern: string): string[] {
  const m = /^\^\((.*)\)\$$/.exec(pattern);
  if (!m) return [];
  const words: string[] = [];
  let depth = 0;
  let start = 0;
  const body = m[1]!;
  for (let i = 0; i <= body.length; i++) {
    const c = body[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if ((c === '|' && depth === 0) || i === body.length) {
      const word = /^([A-Za-z0-9_-]+)(?:\([^()]*\)\?)?$/.exec(body.slice(start, i));
      if (word) words.push(word[1]!);
      start = i + 1;
    }
  }
  return words;
}

function showValue(v: unknown): string {
  return typeof v === 'string' && /^[A-Za-z0-9_.:+\-/]+$/.test(v) ? v : JSON.stringify(v);
}

// ---------------------------------------------------------------------------------------------- describing schemas

/** A noun phrase for what a schema node accepts: "a string", "a list of strings", "null or a mapping", ... */
function describe(node: Schema): string {
  const parts = alternatives(node, 0);
  const unique = [...new Set(parts)];
  if (unique.length === 0) return 'valid';
  if (unique.length === 1) return unique[0]!;
  return `${unique.slice(0, -1).join(', ')} or ${unique[unique.length - 1]}`;
}

function alternatives(node0: Schema, depth: number): string[] {
  const node = resolve(node0);
  if (depth > 8) return [];
  const custom = node['x-message'];
  if (typeof custom === 'string' && custom.startsWith('must be ')) return [custom.slice('must be '.length)];
  const branches = (node.anyOf ?? node.oneOf) as Schema[] | undefined;
  if (branches) return branches.flatMap((b) => alternatives(b, depth + 1));
  if (Array.isArray(node.enum)) return node.enum.map((v) => JSON.stringify(v));
  const types = Array.isArray(node.type) ? (node.type as string[]) : typeof node.type === 'string' ? [node.type] : [];
  return types.map((t) => noun(t, node, depth));
}

function noun(type: string, node: Schema, depth: number): string {
  switch (type) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'integer':
      return 'an integer';
    case 'boolean':
      return 'a boolean';
    case 'null':
      return 'null';
    case 'object':
      return 'a mapping';
    case 'array': {
      const items = node.items as Schema | undefined;
      const each = items ? alternatives(items, depth + 1) : [];
      const plural: Record<string, string> = { 'a string': 'strings', 'a mapping': 'mappings', 'a number': 'numbers', 'an integer': 'integers' };
      return each.length === 1 && plural[each[0]!] ? `a list of ${plural[each[0]!]}` : 'a list';
    }
    default:
      return type;
  }
}

function resolve(node: Schema): Schema {
  let n = node;
  for (let i = 0; i < 8 && typeof n.$ref === 'string'; i++) {
    const name = decodeURIComponent((n.$ref as string).replace(/^#\/\$defs\//, ''));
    const defs = loadSchema().$defs as Record<string, Schema> | undefined;
    const target = defs?.[name];
    if (!target) break;
    n = target;
  }
  return n;
}

function typeMatches(value: unknown, type: unknown): boolean {
  if (type === undefined) return true;
  const types = Array.isArray(type) ? (type as string[]) : [type as string];
  return types.some((t) => {
    switch (t) {
      case 'string':
        return typeof value === 'string';
      case 'number':
        return typeof value === 'number';
      case 'integer':
        return Number.isInteger(value);
      case 'boolean':
        return typeof value === 'boolean';
      case 'null':
        return value === null;
      case 'array':
        return Array.isArray(value);
      case 'object':
        return typeof value === 'object' && value !== null && !Array.isArray(value);
      default:
        return false;
    }
  });
}

// ---------------------------------------------------------------------------------------------- paths and positions

/** JSON pointer into the validated data → path in the original data (list indexes mapped back over removed items). */
function toOriginalPath(pointer: string, root: unknown, indexMaps: WeakMap<readonly unknown[], readonly number[]>): PathSeg[] {
  if (pointer === '') return [];
  const out: PathSeg[] = [];
  let node: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      const i = Number(seg);
      out.push(indexMaps.get(node)?.[i] ?? i);
      node = node[i];
    } else {
      out.push(seg);
      node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
}

/** `services.web.ports[0]`; keys other than plain words are quoted: `labels["com.example.x"]`. */
export function formatPath(path: readonly PathSeg[]): string {
  if (path.length === 0) return '(root)';
  let s = '';
  for (const seg of path) {
    if (typeof seg === 'number') s += `[${seg}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(seg)) s += s === '' ? seg : `.${seg}`;
    else s += `[${JSON.stringify(seg)}]`;
  }
  return s;
}

function position(source: Pick<ParsedYaml, 'file' | 'locate'>, path: readonly PathSeg[], onKey: boolean): SourcePosition {
  try {
    return source.locate(path, onKey);
  } catch {
    return { file: source.file };
  }
}

function byPosition(a: SchemaIssue, b: SchemaIssue): number {
  const la = a.position?.line ?? Number.MAX_SAFE_INTEGER;
  const lb = b.position?.line ?? Number.MAX_SAFE_INTEGER;
  if (la !== lb) return la - lb;
  return (a.position?.col ?? 0) - (b.position?.col ?? 0);
}
