/**
 * The Dockerfile parser, following BuildKit's (moby/buildkit frontend/dockerfile/parser/parser.go,
 * directives.go, line_parsers.go, split_command.go):
 * - parser directives (`# escape=`, `# syntax=`, `# check=`, names case-insensitive) only in the leading comment
 *   lines; the first line that is not one (an empty line, another comment, an instruction, an unknown directive)
 *   ends them. `escape` is `\` or a backtick; a directive given twice is an error.
 * - a logical line is a physical line plus, while it ends with the escape character (optionally followed by
 *   blanks), the next lines; comment lines and blank lines inside a continuation are skipped (blank ones with a
 *   warning, as BuildKit's "Empty continuation line"). Leading whitespace is trimmed only from the first line.
 * - the instruction name is the first word (case-insensitive), then `--flag[=value]` words (quotes and `\`
 *   honoured), then the arguments.
 * - RUN, CMD, ENTRYPOINT, SHELL, COPY, ADD, VOLUME accept the JSON exec form: a JSON array of strings; text that is
 *   not valid JSON falls back to the shell form, but a JSON array holding a non-string is an error.
 * - RUN, COPY, ADD (also as an ONBUILD trigger) not in JSON form take heredocs: every word `[n]<<[-]NAME` of the
 *   line (split by the shell lexer, quotes and escapes kept) starts one; its body is the following raw lines up to
 *   a line equal to NAME (with leading tabs removed for `<<-`). A quoted NAME (`<<"EOF"`, `<<'EOF'`, `<<E"O"F`)
 *   means the body is not expanded.
 * Unknown instructions are parsed (as BuildKit does) and refused by instructions.ts.
 */
import { DockerfileSyntaxError, type Position } from './errors.js';
import { emptyEnv, processWords } from './expand.js';

/** A heredoc of RUN/COPY/ADD. `content` is the body as written (each line ending in "\n"). */
export interface Heredoc {
  readonly name: string;
  readonly content: string;
  /** Whether variables in the body are expanded (the delimiter was not quoted). */
  readonly expand: boolean;
  /** `<<-`: leading tabs of the body's lines are removed (see chompHeredoc). */
  readonly chomp: boolean;
  /** The file descriptor before `<<` (`3<<EOF`), 0 when none. */
  readonly fd: number;
}

/** One instruction as parsed, before it is typed. */
export interface Node extends Position {
  /** The instruction name in lower case (`run`). */
  readonly keyword: string;
  /** The instruction name as written. */
  readonly name: string;
  /** The whole logical line (continuations joined, heredoc bodies excluded). */
  readonly original: string;
  /** The flags as written, with their `--` (`--from=build`). */
  readonly flags: readonly string[];
  /** The arguments after the flags, trimmed. */
  readonly rest: string;
  /** The JSON exec form's strings, for the instructions that accept it; undefined for the shell form. */
  readonly json: readonly string[] | undefined;
  readonly heredocs: readonly Heredoc[];
  /** ONBUILD's trigger. */
  readonly trigger?: Node;
}

export interface Directive {
  readonly name: string;
  readonly value: string;
  readonly line: number;
}

export interface ParseWarning {
  readonly line: number;
  readonly message: string;
}

export interface ParsedDockerfile {
  readonly file: string;
  /** The escape character: `\` or a backtick. */
  readonly escape: string;
  /** The `# syntax=` directive, noted and ignored. */
  readonly syntax: string | undefined;
  readonly directives: readonly Directive[];
  readonly nodes: readonly Node[];
  readonly warnings: readonly ParseWarning[];
}

const JSON_FORM = new Set(['run', 'cmd', 'entrypoint', 'shell', 'copy', 'add', 'volume']);
const HEREDOC_FORM = new Set(['run', 'copy', 'add']);
const DIRECTIVE_RE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const VALID_DIRECTIVES = new Set(['escape', 'syntax', 'check']);
const HEREDOC_RE = /^(\d*)<<(-?)([^<]*)$/;
const WHITESPACE_RE = /[\t\v\f\r ]+/;

/** The JSON array's error that BuildKit does not fall back from. */
export const NOT_STRING_ARRAY = 'when using JSON array syntax, arrays must be comprised of strings only';

/**
 * The JSON exec form of `rest` (BuildKit's parseJSON): the strings, undefined when it is not a JSON array (the
 * shell form applies), or throws NOT_STRING_ARRAY as an Error when the array holds something else.
 */
export function parseJsonArray(rest: string): string[] | undefined {
  const text = rest.trimStart();
  if (!text.startsWith('[')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  if (!value.every((v): v is string => typeof v === 'string')) throw new Error(NOT_STRING_ARRAY);
  return value;
}

/** Removes the leading tabs of every line (a `<<-` heredoc's body, BuildKit's ChompHeredocContent). */
export function chompHeredoc(content: string): string {
  return content.replace(/^\t+/gm, '');
}

/**
 * Splits the flags off an instruction's arguments (BuildKit's extractBuilderFlags): leading words that start
 * with `--`, with quotes and `\` escapes; a lone `--` ends them.
 */
export function extractFlags(line: string): { flags: string[]; rest: string } {
  const flags: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let word = '';
  let quote = '';
  let blankOK = false;
  for (let pos = 0; pos <= line.length; pos++) {
    const ch = pos < line.length ? line.charAt(pos) : '';
    if (phase === 'spaces') {
      if (pos === line.length) break;
      if (/\s/.test(ch)) continue;
      if (ch !== '-' || line.charAt(pos + 1) !== '-') return { flags, rest: line.slice(pos) };
      phase = 'word';
    }
    if (pos === line.length) {
      if (word !== '--' && (blankOK || word.length > 0)) flags.push(word);
      break;
    }
    if (phase === 'word') {
      if (/\s/.test(ch)) {
        phase = 'spaces';
        if (word === '--') return { flags, rest: line.slice(pos) };
        if (blankOK || word.length > 0) flags.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
        continue;
      }
      if (ch === '\\') {
        if (pos + 1 === line.length) continue;
        pos++;
      }
      word += line.charAt(pos);
      continue;
    }
    // in a quote
    if (ch === quote) {
      phase = 'word';
      continue;
    }
    if (ch === '\\') {
      if (pos + 1 === line.length) {
        phase = 'word';
        continue;
      }
      pos++;
    }
    word += line.charAt(pos);
  }
  return { flags, rest: '' };
}

/**
 * Splits ENV/LABEL/ARG arguments into words (BuildKit's parseWords): on whitespace outside quotes; quotes and
 * escapes are kept (expansion removes them later).
 */
export function parseWords(rest: string, escape: string): string[] {
  const words: string[] = [];
  const chars = Array.from(rest);
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let word = '';
  let quote = '';
  let blankOK = false;
  for (let pos = 0; pos <= chars.length; pos++) {
    let ch = chars[pos] ?? '';
    if (phase === 'spaces') {
      if (pos === chars.length) break;
      if (/\s/u.test(ch)) continue;
      phase = 'word';
    }
    if (pos === chars.length) {
      if (blankOK || word.length > 0) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (/\s/u.test(ch)) {
        phase = 'spaces';
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
      }
      if (ch === escape) {
        if (pos + 1 === chars.length) continue;
        word += ch;
        pos++;
        ch = chars[pos] ?? '';
      }
      word += ch;
      continue;
    }
    if (ch === quote) phase = 'word';
    if (ch === escape && quote !== "'") {
      if (pos + 1 === chars.length) {
        phase = 'word';
        continue;
      }
      pos++;
      word += ch;
      ch = chars[pos] ?? '';
    }
    word += ch;
  }
  return words;
}

/** A heredoc word (`<<EOF`, `<<-"EOF"`, `3<<EOF`) as BuildKit's ParseHeredoc; undefined when `word` is none. */
export function parseHeredocWord(word: string): Omit<Heredoc, 'content'> | undefined {
  const m = HEREDOC_RE.exec(word);
  if (!m) return undefined;
  const rest = m[3] ?? '';
  if (rest === '') return undefined;
  const words = processWords(rest, emptyEnv, { skipUnsetEnv: true });
  if (words.length !== 1) return undefined;
  const raw = processWords(rest, emptyEnv, { skipUnsetEnv: true, rawQuotes: true });
  const name = words[0] ?? '';
  const quotes = (s: string): number => (s.match(/['"]/g) ?? []).length;
  return {
    name,
    expand: quotes(name) === quotes(raw[0] ?? ''),
    chomp: m[2] === '-',
    fd: m[1] ? Number(m[1]) : 0,
  };
}

function heredocWords(line: string): Omit<Heredoc, 'content'>[] {
  let words: string[];
  try {
    words = processWords(line, emptyEnv, { rawQuotes: true, rawEscapes: true });
  } catch {
    words = []; // BuildKit ignores the lexer's error here
  }
  return words.map(parseHeredocWord).filter((h): h is Omit<Heredoc, 'content'> => h !== undefined);
}

interface Partial {
  keyword: string;
  name: string;
  flags: string[];
  rest: string;
  json: string[] | undefined;
  trigger?: Partial;
}

function splitCommand(line: string, pos: Position): Partial {
  const trimmed = line.trim();
  const m = WHITESPACE_RE.exec(trimmed);
  const name = m ? trimmed.slice(0, m.index) : trimmed;
  const after = m ? trimmed.slice(m.index + m[0].length) : '';
  const { flags, rest: r } = after === '' ? { flags: [], rest: '' } : extractFlags(after);
  const rest = r.trim();
  const keyword = name.toLowerCase();
  let json: string[] | undefined;
  if (JSON_FORM.has(keyword)) {
    try {
      json = parseJsonArray(rest);
    } catch (e) {
      throw new DockerfileSyntaxError(pos, (e as Error).message);
    }
  }
  const node: Partial = { keyword, name, flags, rest, json };
  if (keyword === 'onbuild' && rest !== '') node.trigger = splitCommand(rest, pos);
  return node;
}

function canContainHeredoc(n: Partial): boolean {
  const target = n.keyword === 'onbuild' && n.trigger ? n.trigger : n;
  return HEREDOC_FORM.has(target.keyword) && target.json === undefined;
}

const isComment = (line: string): boolean => line.trimStart().startsWith('#');

/** Parses a Dockerfile's text; `file` names it in positions and errors. */
export function parseDockerfile(text: string, file = 'Dockerfile'): ParsedDockerfile {
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const directives: Directive[] = [];
  const warnings: ParseWarning[] = [];
  const nodes: Node[] = [];
  let escape = '\\';
  let continuation = /\\[ \t]*$/;
  let directivesDone = false;
  let lineNo = 0; // lines consumed so far

  const at = (startLine: number, endLine = startLine): Position => ({ file, startLine, endLine });
  const directive = (line: string, no: number): void => {
    if (directivesDone) return;
    const m = DIRECTIVE_RE.exec(line);
    const key = m?.[1]?.toLowerCase();
    if (!m || key === undefined || !VALID_DIRECTIVES.has(key)) {
      directivesDone = true;
      return;
    }
    if (directives.some((d) => d.name === key)) {
      throw new DockerfileSyntaxError(at(no), `only one ${key} parser directive can be used`);
    }
    const value = m[2] ?? '';
    directives.push({ name: key, value, line: no });
    if (key === 'escape') {
      if (value !== '`' && value !== '\\') {
        throw new DockerfileSyntaxError(at(no), `invalid escape token '${value}' does not match \` or \\`);
      }
      escape = value;
      continuation = value === '`' ? /`[ \t]*$/ : /\\[ \t]*$/;
    }
  };
  // BuildKit's processLine: trim the newline (and leading blanks of a first line), see a directive, drop comments.
  const processLine = (raw: string, no: number, stripLeft: boolean): string => {
    let token = raw.replace(/[\r\n]+$/, '');
    if (stripLeft) token = token.trimStart();
    directive(token, no);
    return isComment(token) ? '' : token;
  };
  const trimContinuation = (line: string): [string, boolean] => (continuation.test(line) ? [line.replace(continuation, ''), false] : [line, true]);

  while (lineNo < lines.length) {
    const first = processLine(lines[lineNo] ?? '', lineNo + 1, true);
    lineNo++;
    const startLine = lineNo;
    let [line, ended] = trimContinuation(first);
    if (ended && line === '') continue;
    let emptyContinuation = false;
    while (!ended && lineNo < lines.length) {
      const raw = lines[lineNo] ?? '';
      const next = processLine(raw, lineNo + 1, false);
      lineNo++;
      if (isComment(raw)) continue;
      if (next.trim() === '') {
        emptyContinuation = true;
        continue;
      }
      let part: string;
      [part, ended] = trimContinuation(next);
      line += part;
    }
    if (emptyContinuation) warnings.push({ line: startLine, message: `Empty continuation line found in: ${line}` });
    const parsed = splitCommand(line, at(startLine, lineNo));
    const heredocs: Heredoc[] = [];
    if (canContainHeredoc(parsed) && line.includes('<<')) {
      let words: Omit<Heredoc, 'content'>[];
      try {
        words = heredocWords(line);
      } catch (e) {
        throw new DockerfileSyntaxError(at(startLine, lineNo), (e as Error).message);
      }
      for (const h of words) {
        let content = '';
        let terminated = false;
        while (lineNo < lines.length) {
          const raw = lines[lineNo] ?? '';
          lineNo++;
          let candidate = raw.replace(/[\r\n]+$/, '');
          if (h.chomp) candidate = candidate.replace(/^\t+/, '');
          if (candidate === h.name) {
            terminated = true;
            break;
          }
          content += raw + '\n';
        }
        if (!terminated) throw new DockerfileSyntaxError(at(startLine, lineNo), 'unterminated heredoc');
        heredocs.push({ ...h, content });
      }
    }
    nodes.push(toNode(parsed, line, heredocs, at(startLine, lineNo)));
  }
  if (nodes.length === 0) throw new DockerfileSyntaxError(at(Math.max(1, lineNo)), 'file with no instructions');
  const syntax = directives.find((d) => d.name === 'syntax')?.value;
  return { file, escape, syntax, directives, nodes, warnings };
}

function toNode(p: Partial, original: string, heredocs: Heredoc[], pos: Position): Node {
  const base = {
    ...pos,
    keyword: p.keyword,
    name: p.name,
    original,
    flags: p.flags,
    rest: p.rest,
    json: p.json,
    heredocs,
  };
  return p.trigger ? { ...base, trigger: toNode(p.trigger, p.rest, [], pos) } : base;
}
