/**
 * `.env` files (project `.env`, `--env-file`, `env_file:`), with compose-go `dotenv/parser.go` semantics:
 *
 * - `KEY=VALUE`, `KEY: VALUE` (YAML style), optional `export ` prefix, spaces around `=`/`:`;
 *   key characters: letters, digits, `_ . - [ ]` (keys starting with a digit are kept, as compose does);
 * - `#` comment lines; after an unquoted value, ` #` (space, hash) starts a comment (`a#b` is a value);
 * - unquoted values run to the end of the line, trailing whitespace trimmed;
 * - `'single'` quotes are literal (only `\'` is unescaped); `"double"` quotes expand `\n \t \r \a \b \f \v \\ \"
 *   \$` and XSI octal `\0NNN` (other backslashes are kept); both may span lines;
 * - unquoted and double-quoted values are interpolated (`$VAR`, `${VAR:-default}`, …, see interpolate.ts),
 *   looking a name up in `lookup` first, then in the keys already read from this file (compose-go order: the
 *   OS environment wins over earlier lines);
 * - `KEY` alone on a line takes `lookup(KEY)`, and is left out when that is undefined;
 * - a UTF-8 byte order mark is skipped.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, FileNotFoundError, InterpolationError } from '../errors.js';
import { goQuote, interpolateString, type Lookup } from './interpolate.js';

export type { Lookup } from './interpolate.js';

export const ENV_FILE_ERROR = 'TSC_ENV_FILE';

/**
 * Parses dotenv `text`. `file` is only used in error positions. `lookup` resolves interpolated names and bare
 * `KEY` lines; `onWarning` receives the "variable is not set" warnings of interpolation.
 * Throws a ConfigError (code `TSC_ENV_FILE`) with the file and line of the offending statement.
 */
export function parseDotenv(text: string, file: string, lookup?: Lookup, onWarning?: (msg: string) => void): Record<string, string> {
  return new DotenvParser(text, file, lookup ?? (() => undefined), onWarning ?? (() => {})).parse();
}

/**
 * Reads and parses an env file (synchronously). `raw` selects docker compose's `format: raw` (see
 * {@link parseRawEnvFile}). A missing file is a FileNotFoundError, a directory a ConfigError.
 */
export function readDotenvFile(path: string, lookup?: Lookup, raw = false, onWarning?: (msg: string) => void): Record<string, string> {
  const abs = resolve(path);
  let bytes: Buffer;
  try {
    if (statSync(abs).isDirectory()) throw new ConfigError(ENV_FILE_ERROR, `${abs} is a directory`, { file: abs });
    bytes = readFileSync(abs);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    const code = (e as NodeJS.ErrnoException | null)?.code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new FileNotFoundError(`couldn't find env file: ${abs}`, { file: path }, { cause: e });
    throw new ConfigError(ENV_FILE_ERROR, `couldn't read env file ${abs}: ${(e as Error).message}`, { file: path }, { cause: e });
  }
  if (raw) return parseRawEnvFile(bytes, path, lookup);
  return parseDotenv(bytes.toString('utf8'), path, lookup, onWarning);
}

/**
 * docker compose's `env_file: {format: raw}` (docker/cli `kvfile`, the `docker run --env-file` parser): one
 * `KEY=VALUE` per line taken as is (no quotes, no interpolation, trailing blanks kept), leading whitespace
 * ignored, `#` lines skipped, a bare `KEY` taken from `lookup` (left out when undefined). Keys cannot contain
 * spaces or tabs; the content must be valid UTF-8.
 */
export function parseRawEnvFile(content: string | Uint8Array, file: string, lookup?: Lookup): Record<string, string> {
  const out = new Map<string, string>();
  const fail = (detail: string, line: number): ConfigError =>
    new ConfigError(ENV_FILE_ERROR, `failed to parse env_file ${file}: ${detail}`, { file, line });
  const lines = typeof content === 'string' ? content.split('\n') : splitUtf8Lines(content, fail);
  lines.forEach((raw, index) => {
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (index === 0 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    let i = 0;
    while (i < line.length && isUnicodeSpace(line.charCodeAt(i))) i++;
    line = line.slice(i);
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const key = eq < 0 ? line : line.slice(0, eq);
    if (key === '') throw fail(`no variable name on line '${line}'`, index + 1);
    if (/[ \t]/.test(key)) throw fail(`variable '${key}' contains whitespaces`, index + 1);
    if (eq >= 0) {
      out.set(key, line.slice(eq + 1));
      return;
    }
    const value = lookup?.(line);
    if (value !== undefined) out.set(key, value);
  });
  return Object.fromEntries(out);
}

function splitUtf8Lines(bytes: Uint8Array, fail: (detail: string, line: number) => ConfigError): string[] {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const lines: string[] = [];
  let start = 0;
  for (let n = 1; start <= bytes.length; n++) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    const chunk = bytes.subarray(start, end);
    try {
      lines.push(decoder.decode(chunk));
    } catch {
      throw fail(`invalid utf8 bytes at line ${n}: [${[...chunk].join(' ')}]`, n);
    }
    start = end + 1;
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------------------

/** Go `unicode.IsSpace` (the Unicode White_Space property). */
function isUnicodeSpace(c: number): boolean {
  switch (c) {
    case 0x09:
    case 0x0a:
    case 0x0b:
    case 0x0c:
    case 0x0d:
    case 0x20:
    case 0x85:
    case 0xa0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202f:
    case 0x205f:
    case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200a;
  }
}

/** compose-go's `isSpace`: blanks that are not a line break. */
function isBlank(c: number): boolean {
  return c === 0x09 || c === 0x0b || c === 0x0c || c === 0x0d || c === 0x20 || c === 0x85 || c === 0xa0;
}

const KEY_PUNCTUATION = new Set(['_', '.', '-', '[', ']']);
const LETTER_OR_NUMBER = /^[\p{L}\p{N}]$/u;
/** `export` followed by Go-regexp `\s` (no `\v`). */
const EXPORT = /export[\t\n\f\r ]+/y;
const ESCAPE = /\\(?:[abcfnrtv$"\\]|0[0-9]{0,3})/g;
const SIMPLE_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"' };

class DotenvParser {
  private pos = 0;
  private line = 1;
  private readonly out = new Map<string, string>();
  private readonly src: string;

  constructor(
    text: string,
    private readonly file: string,
    private readonly lookup: Lookup,
    private readonly warn: (msg: string) => void,
  ) {
    this.src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  }

  parse(): Record<string, string> {
    while (this.toStatementStart()) {
      const statementLine = this.line;
      const { key, inherited } = this.readKey();
      if (key.includes(' ')) throw this.error('key cannot contain a space', this.line);
      if (inherited) {
        const value = this.lookup(key);
        if (value !== undefined) this.out.set(key, value);
        continue;
      }
      this.out.set(key, this.readValue(statementLine));
    }
    return Object.fromEntries(this.out);
  }

  private error(detail: string, line: number): ConfigError {
    return new ConfigError(ENV_FILE_ERROR, detail, { file: this.file, line });
  }

  /** Skips blank space (counting lines) and comment lines; false at the end of the input. */
  private toStatementStart(): boolean {
    const src = this.src;
    for (;;) {
      while (this.pos < src.length && isUnicodeSpace(src.charCodeAt(this.pos))) {
        if (src.charCodeAt(this.pos) === 0x0a) this.line++;
        this.pos++;
      }
      if (this.pos >= src.length) return false;
      if (src[this.pos] !== '#') return true;
      const eol = src.indexOf('\n', this.pos);
      if (eol < 0) {
        this.pos = src.length;
        return false;
      }
      this.pos = eol;
    }
  }

  /** Reads `[export ]KEY` up to `=`, `:` or a line break (a bare `KEY`), leaving `pos` at the value. */
  private readKey(): { key: string; inherited: boolean } {
    const src = this.src;
    let start = this.pos;
    EXPORT.lastIndex = start;
    if (EXPORT.test(src)) {
      start += 'export'.length;
      while (start < src.length && isBlank(src.charCodeAt(start))) start++;
    }
    if (start >= src.length) throw this.error('zero length string', this.line);

    let end = src.length;
    let terminator = '';
    for (let i = start; i < src.length;) {
      const cp = src.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      if (ch === '=' || ch === ':' || ch === '\n') {
        end = i;
        terminator = ch;
        break;
      }
      if (!isBlank(cp) && !KEY_PUNCTUATION.has(ch) && !LETTER_OR_NUMBER.test(ch)) {
        const eol = src.indexOf('\n', start);
        const statement = src.slice(start, eol < 0 ? src.length : eol);
        throw this.error(`unexpected character ${goQuote(ch)} in variable name ${goQuote(statement)}`, this.line);
      }
      i += ch.length;
    }

    // A key without `=` on the last line (no final line break) is a bare `KEY` too. (compose-go instead reads
    // the whole line as the value of an empty key there; we treat it like the same line followed by `\n`.)
    const inherited = terminator === '\n' || terminator === '';
    const key = trimEndSpace(src.slice(start, end));
    if (terminator === '\n' && !key.includes(' ')) this.line++;

    let valueStart = terminator === '' ? src.length : end + 1;
    while (valueStart < src.length && isBlank(src.charCodeAt(valueStart))) valueStart++;
    this.pos = valueStart;
    return { key, inherited };
  }

  private readValue(statementLine: number): string {
    const src = this.src;
    const quote = src[this.pos];
    if (quote !== '"' && quote !== "'") {
      const eol = src.indexOf('\n', this.pos);
      let value = src.slice(this.pos, eol < 0 ? src.length : eol);
      this.pos = eol < 0 ? src.length : eol + 1;
      this.line++;
      const comment = value.indexOf(' #');
      if (comment >= 0) value = value.slice(0, comment);
      return this.expand(trimEndSpace(value), statementLine);
    }

    let chars = '';
    let escaped = false;
    for (let i = this.pos + 1; i < src.length; i++) {
      const ch = src[i]!;
      if (ch === '\n') this.line++;
      if (ch !== quote) {
        if (!escaped && ch === '\\') {
          escaped = true;
          continue;
        }
        if (escaped) {
          escaped = false;
          chars += '\\';
        }
        chars += ch;
        continue;
      }
      if (escaped) {
        // `\"` in double quotes, `\'` in single quotes.
        escaped = false;
        chars += ch;
        continue;
      }
      this.pos = i + 1;
      return quote === '"' ? this.expand(expandEscapes(chars), statementLine) : chars;
    }
    const eol = src.indexOf('\n', this.pos);
    throw this.error(`unterminated quoted value ${src.slice(this.pos, eol < 0 ? src.length : eol)}`, statementLine);
  }

  private expand(value: string, line: number): string {
    const lookup: Lookup = (name) => this.lookup(name) ?? this.out.get(name);
    try {
      const { value: result, warnings } = interpolateString(value, lookup);
      for (const w of warnings) this.warn(w);
      return result;
    } catch (e) {
      if (e instanceof InterpolationError) throw this.error(e.detail, line);
      throw e;
    }
  }
}

/** Shell-style escapes in double-quoted values; `\$` becomes `$$` so interpolation leaves a literal `$`. */
function expandEscapes(s: string): string {
  return s.replace(ESCAPE, (match) => {
    const c = match[1]!;
    if (c === '$') return '$$';
    if (c === '0') {
      // XSI octal `\0NNN`: exactly three octal digits, at most 0o377; anything else stays as written.
      const digits = match.slice(2);
      if (!/^[0-7]{3}$/.test(digits)) return match;
      const code = parseInt(digits, 8);
      return code > 0xff ? match : String.fromCharCode(code);
    }
    return SIMPLE_ESCAPES[c] ?? match;
  });
}

function trimEndSpace(s: string): string {
  let end = s.length;
  while (end > 0 && isUnicodeSpace(s.charCodeAt(end - 1))) end--;
  return s.slice(0, end);
}
