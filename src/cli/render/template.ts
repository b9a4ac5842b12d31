/**
 * `--format` as the docker CLI takes it (docker/cli `cli/command/formatter`, `templates`), for `ps`, `ls`, `images`
 * and `stats`:
 * - `table` (or nothing): the command's default table; `table TEMPLATE`: a header row, then one row per item, the
 *   `\t`-separated cells aligned as docker's tabwriter does (minimum width 10, padding 3);
 * - `json`: one JSON object per item and line (`{{json .}}`);
 * - anything else: a Go template run once per item, each followed by a newline, no alignment.
 * `\t` and `\n` written as two characters become a tab and a newline; spaces around the template are trimmed.
 *
 * The template language is a subset of Go's text/template: text and `{{ pipeline }}` actions (`{{-`/`-}}` trim the
 * spaces beside them), a pipeline being commands joined by `|`, a command a field (`.`, `.Name`, `.Labels.x`), a
 * string or number, or a function with its arguments: `json`, `upper`, `lower`, `title`, `join LIST SEP`,
 * `split STRING SEP`, `truncate STRING N`, `pad STRING LEFT RIGHT`, `println`. Control structures (`if`, `range`,
 * `with`, …) are refused with a TemplateError, as is a field the items do not have.
 */
import { TsComposeError } from '../../errors.js';

/** A `--format` template that cannot be parsed or run. */
export class TemplateError extends TsComposeError {
  constructor(message: string) {
    super('TSC_TEMPLATE', `template parsing error: ${message}`, { exitCode: 1 });
  }
}

type Operand =
  | { readonly kind: 'field'; readonly path: readonly string[] }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'func'; readonly name: string };
type Command = readonly Operand[];
type Node =
  { readonly kind: 'text'; readonly text: string } | { readonly kind: 'action'; readonly pipeline: readonly Command[]; readonly source: string };

const FUNCTIONS = new Set(['json', 'upper', 'lower', 'title', 'join', 'split', 'truncate', 'pad', 'println']);
const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue']);

function tokenize(action: string): string[] {
  const tokens: string[] = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|`[^`]*`|\||[^\s|"`]+)/y;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(action)) !== null) {
    tokens.push(m[1]!);
    end = re.lastIndex;
  }
  if (action.slice(end).trim() !== '') throw new TemplateError(`unterminated quoted string in {{${action}}}`);
  return tokens;
}

function operand(token: string, action: string): Operand {
  if (token === '.') return { kind: 'field', path: [] };
  if (token.startsWith('.')) {
    const path = token.slice(1).split('.');
    if (path.some((p) => !/^[A-Za-z_]\w*$/.test(p))) throw new TemplateError(`bad field ${token} in {{${action}}}`);
    return { kind: 'field', path };
  }
  if (token.startsWith('"')) return { kind: 'string', value: JSON.parse(token) as string };
  if (token.startsWith('`')) return { kind: 'string', value: token.slice(1, -1) };
  if (/^-?\d+(\.\d+)?$/.test(token)) return { kind: 'number', value: Number(token) };
  if (KEYWORDS.has(token)) throw new TemplateError(`{{${token}}} is not supported here (fields, strings and functions only)`);
  if (!FUNCTIONS.has(token)) throw new TemplateError(`function "${token}" not defined`);
  return { kind: 'func', name: token };
}

function parse(src: string): Node[] {
  const nodes: Node[] = [];
  let pos = 0;
  let trimNext = false;
  while (pos < src.length) {
    const open = src.indexOf('{{', pos);
    let text = src.slice(pos, open < 0 ? src.length : open);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (open < 0) {
      if (text) nodes.push({ kind: 'text', text });
      break;
    }
    const close = src.indexOf('}}', open + 2);
    if (close < 0) throw new TemplateError(`unclosed action in ${JSON.stringify(src)}`);
    let inner = src.slice(open + 2, close);
    if (/^-\s/.test(inner)) {
      text = text.replace(/\s+$/, '');
      inner = inner.slice(1);
    }
    trimNext = /\s-$/.test(inner);
    if (trimNext) inner = inner.slice(0, -1);
    if (text) nodes.push({ kind: 'text', text });
    pos = close + 2;
    const trimmed = inner.trim();
    if (trimmed.startsWith('/*')) continue;
    if (trimmed === '') throw new TemplateError('missing value for command');
    const pipeline: Command[] = [[]];
    for (const t of tokenize(trimmed)) {
      if (t === '|') pipeline.push([]);
      else (pipeline[pipeline.length - 1] as Operand[]).push(operand(t, trimmed));
    }
    if (pipeline.some((c) => c.length === 0)) throw new TemplateError(`missing command in {{${trimmed}}}`);
    nodes.push({ kind: 'action', pipeline, source: trimmed });
  }
  return nodes;
}

/** Go's `%v` of a value: strings as they are, lists `[a b]`, maps `map[k:v]`, nothing `<no value>`. */
export function goString(v: unknown): string {
  if (v === undefined || v === null) return '<no value>';
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return `[${v.map(goString).join(' ')}]`;
  if (typeof v === 'object')
    return `map[${Object.keys(v)
      .sort()
      .map((k) => `${k}:${goString((v as Record<string, unknown>)[k])}`)
      .join(' ')}]`;
  return String(v);
}

/** Go's json.Marshal escapes <, > and & in strings. */
export function goJson(v: unknown): string {
  return (JSON.stringify(v ?? null) ?? 'null').replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
}

const str = (v: unknown): string => goString(v);

function callFunction(name: string, args: unknown[], header: boolean): unknown {
  // Header rows run the template on the column titles: every function gives its first argument back.
  if (header) return args[0] ?? '';
  switch (name) {
    case 'json':
      return goJson(args[0]);
    case 'upper':
      return str(args[0]).toUpperCase();
    case 'lower':
      return str(args[0]).toLowerCase();
    case 'title':
      return str(args[0]).replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, a: string, b: string) => a + b.toUpperCase());
    case 'join':
      return (Array.isArray(args[0]) ? args[0] : [args[0]]).map(str).join(str(args[1] ?? ''));
    case 'split':
      return str(args[0]).split(str(args[1] ?? ''));
    case 'truncate':
      return [...str(args[0])].slice(0, Number(args[1] ?? 0)).join('');
    case 'pad':
      return str(args[0]) === '' ? '' : ' '.repeat(Number(args[1] ?? 0)) + str(args[0]) + ' '.repeat(Number(args[2] ?? 0));
    case 'println':
      return `${args.map(str).join(' ')}\n`;
    default:
      throw new TemplateError(`function "${name}" not defined`);
  }
}

function evaluate(op: Operand, data: unknown, source: string, header: boolean): unknown {
  if (op.kind === 'string' || op.kind === 'number') return op.value;
  if (op.kind === 'func') return callFunction(op.name, [], header);
  let v: unknown = data;
  for (const [i, key] of op.path.entries()) {
    if (header) return i === 0 && v !== null && typeof v === 'object' ? ((v as Record<string, unknown>)[key] ?? '') : '';
    if (v === null || typeof v !== 'object') throw new TemplateError(`executing at <.${op.path.join('.')}>: can't evaluate field ${key}`);
    const rec = v as Record<string, unknown>;
    if (!(key in rec)) {
      // A map (labels) answers every key; a row has a fixed set of fields.
      if (i > 0) return undefined;
      throw new TemplateError(`executing "{{${source}}}": can't evaluate field ${key} (fields: ${Object.keys(rec).join(', ')})`);
    }
    v = rec[key];
  }
  return v;
}

function runCommand(cmd: Command, piped: unknown[], data: unknown, source: string, header: boolean): unknown {
  const [first, ...rest] = cmd;
  if (first!.kind === 'func') {
    const args = [...rest.map((o) => evaluate(o, data, source, header)), ...piped];
    return callFunction(first!.name, args, header);
  }
  if (rest.length > 0 || piped.length > 0) throw new TemplateError(`can't give argument to non-function in {{${source}}}`);
  return evaluate(first!, data, source, header);
}

/** A parsed template: run it on one item (or, with `header`, on the column titles). */
export class Template {
  private readonly nodes: readonly Node[];
  constructor(readonly source: string) {
    this.nodes = parse(source);
  }

  execute(data: unknown, header = false): string {
    let out = '';
    for (const n of this.nodes) {
      if (n.kind === 'text') {
        out += n.text;
        continue;
      }
      let value: unknown;
      let piped: unknown[] = [];
      for (const cmd of n.pipeline) {
        value = runCommand(cmd, piped, data, n.source, header);
        piped = [value];
      }
      out += str(value);
    }
    return out;
  }
}

/**
 * Aligns `\t`-separated cells as docker's tabwriter (minwidth 10, padding 3, spaces): a cell that a tab ends is
 * padded to its column's widest such cell plus 3, at least 10; the last cell of a line is left as it is.
 */
export function tabwrite(text: string, minWidth = 10, padding = 3): string {
  const lines = text.split('\n');
  const rows = lines.map((l) => l.split('\t'));
  const widths: number[] = [];
  for (const cells of rows)
    cells.slice(0, -1).forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, minWidth, [...c].length + padding);
    });
  return rows.map((cells) => cells.map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - [...c].length))).join('')).join('\n');
}

/** What a command tells `renderFormat` about its items. */
export interface FormatSpec {
  /** The default table (`table {{.Name}}\t{{.Image}}…`), for `table` and an empty format. */
  readonly defaultTable: string;
  /** Field → column title (`Name` → `NAME`); other fields' titles are their names in capitals. */
  readonly headers: Readonly<Record<string, string>>;
}

/** The template text of a `--format` (docker's templateString): `table` prefix off, spaces trimmed, `\t`/`\n` made real. */
export function templateText(format: string): string {
  const body = format === 'json' ? '{{json .}}' : format.startsWith('table') ? format.slice('table'.length) : format;
  return body
    .replace(/^ +| +$/g, '')
    .replace(/\\t/g, '\t')
    .replace(/\\n/g, '\n');
}

/** Whether `format` is a table (`table`, `table TEMPLATE`, or nothing). */
export const isTableFormat = (format: string): boolean => format === '' || format.startsWith('table');

/** Renders `items` (objects whose keys are the template fields) as `format` says (see the header). */
export function renderFormat(format: string, items: readonly object[], spec: FormatSpec): string {
  const f = format === '' || format === 'table' ? spec.defaultTable : format;
  const tmpl = new Template(templateText(f));
  const body = items.map((it) => `${tmpl.execute(it)}\n`).join('');
  if (!isTableFormat(f)) return body;
  const titles = new Proxy(spec.headers, {
    get: (h, key) => (typeof key === 'string' ? (h[key] ?? key.toUpperCase()) : undefined),
  });
  return `${tabwrite(`${tmpl.execute(titles, true)}\n${body}`)}`;
}
