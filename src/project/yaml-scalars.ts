/**
 * The YAML scalar types shared by the loader (yaml.ts) and our YAML output (`config`, `config --variables`), and
 * that output's `dumpYaml`.
 *
 * They keep what js-yaml 4 did, which compose files and our golden outputs were written against: integers in
 * 0b/0o/0x and decimal form (no `_`), floats without `_` (`.5` but not `-.5`), and on output the strings that
 * YAML 1.1 readers would take for something else (`yes`, `on`, `12:30`, `80:80`) or that start with an indicator
 * character (`-x`, `:x`, `=x`) quoted. js-yaml 5's own schemas differ in these corners.
 */
import {
  binaryTag,
  boolCoreTag,
  DEFAULT_SCALAR_STYLE_RULES,
  defineScalarTag,
  dump,
  mapTag,
  mergeTag,
  NOT_RESOLVED,
  nullCoreTag,
  omapTag,
  pairsTag,
  SCALAR_STYLE,
  Schema,
  seqTag,
  setTag,
  strTag,
  timestampTag,
  type ScalarLayout,
} from 'js-yaml';

const INTEGER = /^[-+]?(?:0b[01]+|0o[0-7]+|0x[0-9a-fA-F]+|[0-9]+)$/;
const FLOAT = /^(?:[-+]?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9]+(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const FLOAT_SPECIAL = /^(?:[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;

/** A plain integer (`12`, `-0x1F`, `0o17`, `0b101`), or undefined when the text is not one or is not finite. */
export function parseInteger(source: string): number | undefined {
  if (!INTEGER.test(source)) return undefined;
  let value = source;
  let sign = 1;
  if (value[0] === '-' || value[0] === '+') {
    if (value[0] === '-') sign = -1;
    value = value.slice(1);
  }
  const radix = value[1] === 'b' ? 2 : value[1] === 'o' ? 8 : value[1] === 'x' ? 16 : 10;
  const n = sign * parseInt(radix === 10 ? value : value.slice(2), radix);
  if (!Number.isFinite(n)) return undefined;
  return n === 0 ? 0 : n; // -0 reads as 0
}

function parseFloatScalar(source: string): number | undefined {
  if (!FLOAT.test(source) || (!Number.isFinite(parseFloat(source)) && !FLOAT_SPECIAL.test(source))) return undefined;
  let value = source.toLowerCase();
  const sign = value[0] === '-' ? -1 : 1;
  if (value[0] === '-' || value[0] === '+') value = value.slice(1);
  if (value === '.inf') return sign * Infinity;
  if (value === '.nan') return NaN;
  return sign * parseFloat(value);
}

/** An integer that prints without an exponent. */
const isInteger = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && !Object.is(v, -0) && !String(v).includes('e');

const intTag = defineScalarTag('tag:yaml.org,2002:int', {
  implicit: true,
  implicitFirstChars: ['-', '+', ...'0123456789'],
  resolve: (source: string) => parseInteger(source) ?? NOT_RESOLVED,
  identify: isInteger,
  represent: (v: number) => v.toString(10),
});

export const floatTag = defineScalarTag('tag:yaml.org,2002:float', {
  implicit: true,
  implicitFirstChars: ['-', '+', '.', ...'0123456789'],
  resolve: (source: string) => parseFloatScalar(source) ?? NOT_RESOLVED,
  identify: (v: unknown) => typeof v === 'number' && !isInteger(v),
  represent: (v: number) => {
    if (Number.isNaN(v)) return '.nan';
    if (v === Infinity) return '.inf';
    if (v === -Infinity) return '-.inf';
    if (Object.is(v, -0)) return '-0.0';
    const s = v.toString(10);
    if (Number.isInteger(v)) return s; // 1e+21
    return /^[-+]?[0-9]+e/.test(s) ? s.replace('e', '.e') : s; // 5e-7 → 5.e-7, as YAML wants a dot
  },
});

/** What the output must not print plain: every type a reader may find in a plain scalar. */
const DUMP_SCHEMA = new Schema([
  strTag,
  seqTag,
  mapTag,
  nullCoreTag,
  boolCoreTag,
  intTag,
  floatTag,
  timestampTag,
  mergeTag,
  binaryTag,
  omapTag,
  pairsTag,
  setTag,
]);

const YAML11_BOOLEANS = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON', 'n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF']);
const YAML11_BASE60 = /^[-+]?[0-9_]+(?::[0-9_]+)+(?:\.[0-9_]*)?$/;
const INDICATOR_FIRST = new Set([...'-?:,[]{}#&*!|=>\'"%@`', ' ', '\t', '\uFEFF']);

/** Quotes a plain string that YAML 1.1 would read as a boolean or a number, or that starts with an indicator. */
function quoteAmbiguous(layout: ScalarLayout): void {
  if (layout.style !== SCALAR_STYLE.PLAIN || layout.node.tag !== strTag.tagName) return;
  const s = layout.node.value;
  if (s === '') return;
  const last = s[s.length - 1];
  if (
    INDICATOR_FIRST.has(s[0]!) ||
    last === ' ' ||
    last === '\t' ||
    last === ':' ||
    (s.length <= 5 && YAML11_BOOLEANS.has(s)) ||
    (s.includes(':') && YAML11_BASE60.test(s))
  )
    layout.style = layout.presenterOptions.quoteStyle === 'double' ? SCALAR_STYLE.DOUBLE_QUOTED : SCALAR_STYLE.SINGLE_QUOTED;
}

const STYLE_RULES = [quoteAmbiguous, ...Object.values(DEFAULT_SCALAR_STYLE_RULES)];

export interface DumpYamlOptions {
  /** Spaces per level (default 2); with more than 2, a mapping in a sequence starts on the line after its `-`. */
  readonly indent?: number;
  /** How a string that needs quotes is quoted (default single). */
  readonly quote?: 'single' | 'double';
}

/** Block-style YAML of plain data: no anchors (repeated objects are written out), no line folding. */
export function dumpYaml(data: unknown, opts: DumpYamlOptions = {}): string {
  const indent = opts.indent ?? 2;
  return dump(data, {
    schema: DUMP_SCHEMA,
    scalarStyleRules: STYLE_RULES,
    indent,
    seqInlineFirst: indent <= 2,
    quoteStyle: opts.quote ?? 'single',
    lineWidth: -1,
    noRefs: true,
  });
}

/**
 * {@link dumpYaml} (indent 2) of a mapping whose values are mostly mappings, as config's project is: the same
 * text, written a second-level entry (a service, a network, …) at a time. js-yaml 5 builds a node tree of all it
 * dumps before writing any of it; for the 500-service file of bench/config.mjs, dumping the whole project at once
 * raised the dump's share of the peak RSS from ~6 to ~15 MiB. `lazy[key]`, when given, stands for `data[key]`'s
 * entries: each is made just before it is written and dropped after (config normalises a service at a time).
 */
export function dumpYamlByEntry(data: Record<string, unknown>, lazy: Record<string, () => Iterable<readonly [string, unknown]>> = {}): string {
  const keys = Object.keys(data);
  if (keys.length === 0) return dumpYaml(data);
  let out = '';
  for (const key of keys) {
    const value = data[key];
    const entries = Object.hasOwn(lazy, key) ? lazy[key]!() : isMapping(value) ? Object.entries(value) : undefined;
    const empty = dumpYaml({ [key]: {} });
    if (!entries || !empty.endsWith(': {}\n') || empty.indexOf('\n') !== empty.length - 1) {
      // Not a mapping, or a key written over several lines: the section whole.
      out += dumpYaml({ [key]: entries ? Object.fromEntries(entries) : value });
      continue;
    }
    let head: string | undefined = `${empty.slice(0, -' {}\n'.length)}\n`; // `key:\n`
    for (const [k, v] of entries) {
      if (head !== undefined) out += head;
      head = undefined;
      out += indentLines(dumpYaml({ [k]: v }));
    }
    if (head !== undefined) out += empty;
  }
  return out;
}

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Two more spaces before each non-empty line, as dumpYaml indents a nested entry (empty lines stay empty). */
function indentLines(text: string): string {
  return text
    .split('\n')
    .map((line) => (line === '' ? line : `  ${line}`))
    .join('\n');
}
