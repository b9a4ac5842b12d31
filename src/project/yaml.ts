/**
 * Phase 1: YAML text → plain data, keeping source positions.
 *
 * - anchors, aliases and `<<` merge keys (with a cap on alias expansion against "billion laughs");
 * - `!reset` and `!override` tags become {@link Tagged} markers, applied later by the merge phase;
 * - plain scalars with a leading zero (`0440`) are octal, as in compose-go (go-yaml), not YAML 1.2 decimal;
 * - several documents in one file are merged in order;
 * - `locate(path)` maps a data path back to `file:line:col`.
 */
import { LineCounter, parseAllDocuments, isAlias, isMap, isPair, isScalar, isSeq, Scalar } from 'yaml';
import type { Document, Node as YamlNode, YAMLMap } from 'yaml';
import { YamlSyntaxError, type SourcePosition } from '../errors.js';

export type PathSeg = string | number;
export type Path = readonly PathSeg[];

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

const MAX_ALIAS_EXPANSIONS = 10_000;

export function parseYaml(text: string, file: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, merge: true, uniqueKeys: true, prettyErrors: false });
  const docs: Document.Parsed[] = Array.isArray(parsed) ? parsed : [];
  const pos = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, col };
  };
  for (const doc of docs) {
    const err = doc.errors[0];
    if (err) throw new YamlSyntaxError(cleanMessage(err.message), pos(err.pos[0] ?? 0));
  }

  let data: unknown = null;
  for (const doc of docs) {
    const value = new Converter(doc, pos).convert(doc.contents);
    data = docs.length === 1 ? value : mergeDocuments(data, value);
  }

  const locate = (path: Path, key = false): SourcePosition => {
    for (let i = docs.length - 1; i >= 0; i--) {
      const found = walk(docs[i]!, path, key);
      if (found !== undefined && (found.depth === path.length || i === 0)) return pos(found.offset);
    }
    return { file };
  };
  return { file, data, locate };
}

function cleanMessage(msg: string): string {
  return msg.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
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

class Converter {
  private expansions = 0;
  /** Anchors whose node is being converted: an alias to one of them is a recursive structure. */
  private readonly open = new Set<string>();
  constructor(
    private readonly doc: Document.Parsed,
    private readonly pos: (offset: number) => SourcePosition,
  ) {}

  convert(node: unknown): unknown {
    if (node === null || node === undefined) return null;
    if (isAlias(node)) {
      if (++this.expansions > MAX_ALIAS_EXPANSIONS)
        throw new YamlSyntaxError('too many alias expansions (possible "billion laughs" document)', this.pos(node.range?.[0] ?? 0));
      if (this.open.has(node.source))
        throw new YamlSyntaxError(`recursive alias "*${node.source}" refers to its own anchor`, this.pos(node.range?.[0] ?? 0));
      const target = node.resolve(this.doc);
      if (!target) throw new YamlSyntaxError(`unknown anchor "${node.source}"`, this.pos(node.range?.[0] ?? 0));
      return this.convert(target);
    }
    const tag = (node as YamlNode).tag;
    const anchor = (node as { anchor?: string }).anchor;
    if (anchor) this.open.add(anchor);
    let value: unknown;
    try {
      value = this.convertUntagged(node as YamlNode);
    } finally {
      if (anchor) this.open.delete(anchor);
    }
    if (tag === '!reset' || tag === '!override') {
      // Unknown tags leave scalars unresolved: `!reset` alone or `!reset null` must still mean null.
      const bare = isScalar(node) && node.type === Scalar.PLAIN && ['', '~', 'null', 'Null', 'NULL'].includes(String(node.source ?? ''));
      return new Tagged(tag === '!reset' ? 'reset' : 'override', bare ? null : value);
    }
    return value;
  }

  private convertUntagged(node: YamlNode): unknown {
    if (isScalar(node)) return this.scalar(node);
    if (isSeq(node)) return node.items.map((item) => this.convert(item));
    if (isMap(node)) return this.map(node);
    return null;
  }

  private scalar(node: Scalar): unknown {
    const v = node.value;
    if (node.type === Scalar.PLAIN && typeof node.source === 'string') {
      // go-yaml reads 0-prefixed integers as octal (file modes like 0440).
      if (/^[-+]?0[0-7]+$/.test(node.source)) return parseInt(node.source, 8);
    }
    if (typeof v === 'bigint') return Number(v);
    return v;
  }

  private map(node: YAMLMap): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const merged: Record<string, unknown>[] = [];
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key as YamlNode | null;
      const isMergeKey =
        (isScalar(keyNode) && (keyNode.value === '<<' || (typeof keyNode.value === 'symbol' && String(keyNode.value) === 'Symbol(<<)'))) ||
        (keyNode as unknown) === '<<';
      if (isMergeKey) {
        const src = this.convert(pair.value);
        for (const m of Array.isArray(src) ? src : [src]) {
          if (isPlainObject(m)) merged.push(m);
          else if (m !== null)
            throw new YamlSyntaxError('merge key "<<" expects a mapping or a list of mappings', this.pos(keyNode?.range?.[0] ?? 0));
        }
        continue;
      }
      const key = keyString(isScalar(keyNode) ? keyNode.value : this.convert(keyNode));
      out[key] = this.convert(pair.value);
    }
    if (merged.length === 0) return out;
    // Explicit keys win over merged ones; earlier merge sources win over later ones (YAML merge key semantics).
    const result: Record<string, unknown> = {};
    for (const m of [...merged].reverse()) Object.assign(result, m);
    return Object.assign(result, out);
  }
}

function keyString(k: unknown): string {
  if (k === null || k === undefined) return 'null';
  return typeof k === 'string' ? k : typeof k === 'object' ? JSON.stringify(k) : String(k);
}

/** Finds the AST node at `path`; returns its offset and how deep the walk got. */
function walk(doc: Document.Parsed, path: Path, key: boolean): { offset: number; depth: number } | undefined {
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
