/**
 * Phase 1: YAML text → plain data, keeping the way back to source positions.
 *
 * Data comes from js-yaml (several times faster than the position-keeping `yaml` parser on large files) with a
 * schema matching compose-go's go-yaml: YAML 1.2 core types, `<<` merge keys, plain 0-prefixed integers as octal
 * (file modes like 0440), and `!reset` / `!override` as {@link Tagged} markers for the merge phase. Aliases are
 * expanded into copies, capped against "billion laughs"; a recursive alias is an error. Several documents in
 * one file are merged in order. `locate(path)` parses the file again with `yaml` — only when a message needs
 * `file:line:col`.
 */
import {
  defineMappingTag,
  defineScalarTag,
  defineSequenceTag,
  loadAll,
  mapTag,
  mergeTag,
  NOT_RESOLVED,
  Schema,
  seqTag,
  strTag,
  nullCoreTag,
  boolCoreTag,
  YAMLException,
  type TagDefinition,
} from 'js-yaml';
import { createRequire } from 'node:module';
import type { Document } from 'yaml';
import { YamlSyntaxError, type SourcePosition } from '../errors.js';
import { floatTag, parseInteger } from './yaml-scalars.js';

export type PathSeg = string | number;
export type Path = readonly PathSeg[];

/** `services.web.ports[0]`: keys joined with dots, list items as `[i]`. */
export function formatPath(path: Path): string {
  let s = '';
  for (const seg of path) s += typeof seg === 'number' ? `[${seg}]` : s === '' ? seg : `.${seg}`;
  return s;
}

/**
 * Maps every string of a document (values only, never keys) through `fn`, with the string's path. `data` is not
 * modified: a mapping, sequence or Tagged marker in which something changed is copied, the rest is shared with
 * `data` (most values of a file have no `$` and no type to cast). `path` is the walker's own array: copy it to
 * keep it.
 */
export function mapStrings(data: unknown, fn: (value: string, path: readonly PathSeg[]) => unknown): unknown {
  // One path array and no closure or entries array per node: this walks every node of every file, twice.
  const path: PathSeg[] = [];
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') return fn(value, path);
    if (typeof value !== 'object' || value === null) return value;
    if (value instanceof Tagged) {
      const inner = walk(value.value);
      return inner === value.value ? value : new Tagged(value.tag, inner);
    }
    if (Array.isArray(value)) {
      let out: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        path.push(i);
        const v: unknown = value[i];
        const nv = walk(v);
        if (nv !== v) (out ??= value.slice())[i] = nv;
        path.pop();
      }
      return out ?? value;
    }
    if (!isPlainObject(value)) return value;
    let out: Record<string, unknown> | undefined;
    for (const k of Object.keys(value)) {
      path.push(k);
      const v = value[k];
      const nv = walk(v);
      if (nv !== v) setOwn((out ??= copyObject(value)), k, nv);
      path.pop();
    }
    return out ?? value;
  };
  return walk(data);
}

/** A shallow copy with the same own keys in the same order (`__proto__` included). */
function copyObject(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(obj)) setOwn(out, k, obj[k]);
  return out;
}

/** `obj[key] = value`, also for a key named `__proto__` (which an assignment would take as the prototype). */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}

/** A value carrying a `!reset` or `!override` tag. */
export class Tagged {
  constructor(
    readonly tag: 'reset' | 'override',
    readonly value: unknown,
  ) {}
}

export interface ParsedYaml {
  readonly file: string;
  /** The documents' data merged in order (plain objects, arrays, scalars and Tagged markers). */
  readonly data: unknown;
  /** The position of the node at `path` (or of its deepest existing ancestor); `key` gives the key's position. */
  locate(path: Path, key?: boolean): SourcePosition;
}

/** Nodes produced by alias expansion, at most (a 500-service file with anchors expands to ~100k). */
const MAX_EXPANDED_NODES = 5_000_000;

const GO_OCTAL = /^[-+]?0[0-7]+$/;
const NULL_TEXT = new Set(['', '~', 'null', 'Null', 'NULL']);
const INT_FIRST_CHARS = ['-', '+', ...'0123456789'];

/** Integers as go-yaml reads them: js-yaml 4's core forms (0b, 0o, 0x, decimal) plus 0-prefixed octal (0440). */
const goIntTag = defineScalarTag('tag:yaml.org,2002:int', {
  implicit: true,
  implicitFirstChars: INT_FIRST_CHARS,
  resolve: (source: string) => (GO_OCTAL.test(source) ? parseInt(source, 8) : (parseInteger(source) ?? NOT_RESOLVED)),
  identify: () => false, // load-only
});

/** `!reset` / `!override` on a scalar, a sequence or a mapping: a {@link Tagged} marker for the merge phase. */
const tagTypes = (['reset', 'override'] as const).flatMap((tag): TagDefinition[] => [
  // A bare tag or `null` means "nothing": the key is removed.
  defineScalarTag(`!${tag}`, { resolve: (source: string) => new Tagged(tag, NULL_TEXT.has(source) ? null : source), identify: () => false }),
  defineSequenceTag<unknown[], Tagged>(`!${tag}`, {
    create: () => [],
    addItem: (items, item) => void items.push(item),
    finalize: (items) => new Tagged(tag, items),
    identify: () => false,
  }),
  defineMappingTag<Record<string, unknown>, Tagged>(`!${tag}`, {
    create: () => ({}),
    addPair: mapTag.addPair,
    has: mapTag.has,
    // As js-yaml 4 did for a merge (`<<`) of a tagged mapping: the marker's own fields.
    keys: (result) => Object.keys(result),
    get: (result, key) => (result as unknown as Record<string, unknown>)[String(key)],
    finalize: (map) => new Tagged(tag, map),
    identify: () => false,
  }),
]);

/** YAML 1.2 core types as compose-go's go-yaml reads them, `<<` merge keys, and the `!reset`/`!override` tags. */
const SCHEMA = new Schema([strTag, seqTag, mapTag, nullCoreTag, boolCoreTag, goIntTag, floatTag, mergeTag, ...tagTypes]);

export function parseYaml(text: string, file: string): ParsedYaml {
  let docs: unknown[];
  try {
    docs = loadAll(text, { schema: SCHEMA, filename: file });
  } catch (e) {
    if (e instanceof YAMLException) {
      const mark = e.mark;
      const at: SourcePosition = mark ? { file, line: mark.line + 1, col: mark.column + 1 } : { file };
      if (e.reason === 'duplicated mapping key') {
        const dup = duplicateKey(text, file, at);
        // go-yaml's words: `mapping key "image" already defined at line 3`.
        if (dup) throw new YamlSyntaxError(`mapping key ${JSON.stringify(dup.key)} already defined at line ${dup.first.line}`, dup.at);
      }
      throw new YamlSyntaxError(e.reason ?? e.message, at);
    }
    throw e;
  }
  let located: ((path: Path, key: boolean) => SourcePosition) | undefined;
  const locate = (path: Path, key = false): SourcePosition => (located ??= positionIndex(text, file))(path, key);

  const budget = { nodes: 0 };
  let data: unknown = null;
  for (const doc of docs) {
    const value = expand(doc, budget, file, locate);
    data = docs.length === 1 ? value : mergeDocuments(data, value);
  }
  return { file, data, locate };
}

/**
 * Makes the parsed data a tree: a node reached a second time (through an alias, or a `<<` merge that shares
 * values) is replaced by a copy, the first one stays where js-yaml put it, so a file without aliases is not copied
 * at all. Rejects recursive and exploding aliases.
 */
function expand(root: unknown, budget: { nodes: number }, file: string, locate: (p: Path) => SourcePosition): unknown {
  const placed = new Set<object>(); // objects already in the tree
  const open = new Set<object>(); // the node being visited and its ancestors
  const path: PathSeg[] = [];
  const visit = (value: unknown): unknown => {
    if (++budget.nodes > MAX_EXPANDED_NODES)
      throw new YamlSyntaxError('document too large after alias expansion (possible "billion laughs" document)', { file });
    if (typeof value !== 'object' || value === null) return value;
    if (open.has(value)) throw new YamlSyntaxError('recursive alias: a node refers to its own anchor', locate([...path]));
    const copy = placed.has(value);
    if (!copy) placed.add(value);
    open.add(value);
    let out: unknown;
    if (value instanceof Tagged) {
      const inner = visit(value.value);
      out = copy || inner !== value.value ? new Tagged(value.tag, inner) : value;
    } else if (Array.isArray(value)) {
      const items: unknown[] = copy ? new Array<unknown>(value.length) : value;
      for (let i = 0; i < value.length; i++) {
        path.push(i);
        items[i] = visit(value[i]);
        path.pop();
      }
      out = items;
    } else {
      const obj = value as Record<string, unknown>;
      const fields: Record<string, unknown> = copy ? {} : obj;
      for (const k of Object.keys(obj)) {
        path.push(k);
        const v = obj[k];
        const nv = visit(v);
        if (copy || nv !== v) setOwn(fields, k, nv);
        path.pop();
      }
      out = fields;
    }
    open.delete(value);
    return out;
  };
  return visit(root);
}

function mergeDocuments(a: unknown, b: unknown): unknown {
  if (isPlainObject(a) && isPlainObject(b)) {
    const out: Record<string, unknown> = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = k in out ? mergeDocuments(out[k], v) : v;
    return out;
  }
  return b === null || b === undefined ? a : b;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Tagged);
}

type YamlModule = typeof import('yaml');
let yamlModule: YamlModule | undefined;
/** The `yaml` package is only needed for positions in messages: loaded on first use, not at start-up. */
const yamlLib = (): YamlModule => (yamlModule ??= createRequire(import.meta.url)('yaml') as YamlModule);

/**
 * The duplicated key js-yaml stopped at (`at`, else the first one in the text): its name, its position and that of
 * its first definition. Found by parsing the text again with `yaml`, which keeps every key.
 */
function duplicateKey(text: string, file: string, at: SourcePosition): { key: string; at: SourcePosition; first: SourcePosition } | undefined {
  const { LineCounter, parseAllDocuments, visit, isScalar } = yamlLib();
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, uniqueKeys: false, prettyErrors: false });
  const pos = (node: unknown): SourcePosition => {
    const range = (node as { range?: [number, number, number] }).range;
    if (!range) return { file };
    const { line, col } = lineCounter.linePos(range[0]);
    return { file, line, col };
  };
  const found: { key: string; at: SourcePosition; first: SourcePosition }[] = [];
  for (const doc of Array.isArray(parsed) ? parsed : []) {
    visit(doc, {
      Map(_key, map) {
        const seen = new Map<string, unknown>();
        for (const pair of map.items) {
          if (!isScalar(pair.key)) continue;
          const name = String(pair.key.value);
          if (name === '<<') continue; // merge keys may repeat
          const first = seen.get(name);
          if (first === undefined) seen.set(name, pair.key);
          else found.push({ key: name, at: pos(pair.key), first: pos(first) });
        }
      },
    });
  }
  return found.find((d) => d.at.line === at.line && d.at.col === at.col) ?? found.find((d) => d.at.line === at.line) ?? found[0];
}

/** Parses the text again with `yaml`, keeping node ranges, to answer `locate`. */
function positionIndex(text: string, file: string): (path: Path, key: boolean) => SourcePosition {
  const { LineCounter, parseAllDocuments } = yamlLib();
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, merge: true, uniqueKeys: false, prettyErrors: false });
  const docs: Document.Parsed[] = Array.isArray(parsed) ? parsed : [];
  const pos = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, col };
  };
  return (path, key) => {
    for (let i = docs.length - 1; i >= 0; i--) {
      const found = walk(docs[i]!, path, key);
      if (found !== undefined && (found.depth === path.length || i === 0)) return pos(found.offset);
    }
    return { file };
  };
}

/** Finds the AST node at `path`; returns its offset and how deep the walk got. */
function walk(doc: Document.Parsed, path: Path, key: boolean): { offset: number; depth: number } | undefined {
  const { isAlias, isMap, isPair, isScalar, isSeq } = yamlLib();
  let node: unknown = doc.contents;
  let best: { offset: number; depth: number } | undefined = offsetOf(node, 0);
  for (let depth = 0; depth < path.length; depth++) {
    while (isAlias(node)) node = node.resolve(doc);
    const seg = path[depth]!;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return best;
      const last = depth === path.length - 1;
      const keyPos = offsetOf(pair.key, depth + 1);
      const valPos = offsetOf(pair.value, depth + 1);
      best = (last && key) || !valPos ? (keyPos ?? best) : valPos;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (item === undefined) return best;
      best = offsetOf(item, depth + 1) ?? best;
      node = item;
    } else {
      return best;
    }
  }
  return best;
}

function offsetOf(node: unknown, depth: number): { offset: number; depth: number } | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? { offset: range[0], depth } : undefined;
}
