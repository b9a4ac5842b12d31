/**
 * Variable expansion as BuildKit's shell lexer (moby/buildkit frontend/dockerfile/shell/lex.go): `$V`, `${V}`,
 * `${V:-x}`, `${V-x}`, `${V:+x}`, `${V+x}`, `${V:?msg}`, `${V?msg}`, the escape character outside quotes (the
 * next character literally), single quotes (everything literal), double quotes (`$` expands; the escape character
 * escapes only `"`, `$` and itself). `processWord` gives one string (quotes removed); `processWords` splits on
 * whitespace outside quotes, and the value of an unquoted `$V` is split too (lex.go's wordsStruct.addString),
 * while quoted text never is. Names are letters, digits and `_`; a name starting with a digit is all its digits
 * (`$1`), and the special parameters `@ * # ? - $ ! 0` are one character, all unset.
 * Also the pattern operators of newer lex.go: `${V#p}`, `${V##p}` (shortest/longest prefix removed), `${V%p}`,
 * `${V%%p}` (suffix), `${V/p/r}`, `${V//p/r}` (first/every match replaced), with shell globs.
 */
import { ExpansionError } from './errors.js';

/** Looks a variable up: its value, or undefined when it is not set. */
export type EnvLookup = (name: string) => string | undefined;

export interface LexOptions {
  /** The Dockerfile's escape character (the `# escape=` directive): `\` (default) or a backtick. */
  readonly escape?: string;
  /** Keep quote characters in the result (BuildKit's RawQuotes; used to find heredoc words). */
  readonly rawQuotes?: boolean;
  /** Keep escape characters in the result (BuildKit's RawEscapes). */
  readonly rawEscapes?: boolean;
  /** Leave unset variables as written (`$V`, `${V}`) instead of expanding them to "". */
  readonly skipUnsetEnv?: boolean;
  /** Quotes are ordinary characters (BuildKit's SkipProcessQuotes; used for heredoc bodies). */
  readonly skipProcessQuotes?: boolean;
}

/** An env lookup over `KEY=value` strings (the last one of a key wins), a record or a map. */
export function envLookup(env: readonly string[] | Readonly<Record<string, string>> | ReadonlyMap<string, string>): EnvLookup {
  if (env instanceof Map) return (name) => env.get(name);
  if (Array.isArray(env)) {
    const m = new Map<string, string>();
    for (const kv of env as readonly string[]) {
      const i = kv.indexOf('=');
      if (i < 0) m.set(kv, '');
      else m.set(kv.slice(0, i), kv.slice(i + 1));
    }
    return (name) => m.get(name);
  }
  const rec = env as Readonly<Record<string, string>>;
  return (name) => (Object.prototype.hasOwnProperty.call(rec, name) ? rec[name] : undefined);
}

const EOF = '';
const isSpace = (ch: string): boolean => /^\s$/u.test(ch);
const isLetter = (ch: string): boolean => /^\p{L}$/u.test(ch);
const isDigit = (ch: string): boolean => /^\p{Nd}$/u.test(ch);
const SPECIAL_PARAMS = new Set(['@', '*', '#', '?', '-', '$', '!', '0']);

/** lex.go's wordsStruct: collects words; characters from quotes and escapes never split. */
class Words {
  word = '';
  readonly words: string[] = [];
  inWord = false;
  addChar(ch: string): void {
    if (isSpace(ch) && this.inWord) {
      if (this.word.length !== 0) {
        this.words.push(this.word);
        this.word = '';
        this.inWord = false;
      }
    } else if (!isSpace(ch)) {
      this.addRaw(ch);
    }
  }
  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }
  addRaw(s: string): void {
    this.word += s;
    this.inWord = true;
  }
  get(): string[] {
    if (this.word.length > 0) {
      this.words.push(this.word);
      this.word = '';
      this.inWord = false;
    }
    return this.words;
  }
}

class ShellWord {
  private readonly chars: string[];
  private pos = 0;
  private readonly escape: string;
  constructor(
    source: string,
    private readonly env: EnvLookup,
    private readonly opts: LexOptions,
  ) {
    this.chars = Array.from(source);
    this.escape = opts.escape ?? '\\';
  }

  private peek(): string {
    return this.chars[this.pos] ?? EOF;
  }
  private next(): string {
    const ch = this.chars[this.pos] ?? EOF;
    if (ch !== EOF) this.pos++;
    return ch;
  }

  /** lex.go's processStopOn: up to `stop` (EOF when ''), giving the string and its words. */
  process(stop: string): { result: string; words: string[] } {
    let result = '';
    const words = new Words();
    while (this.peek() !== EOF) {
      const ch = this.peek();
      if (stop !== EOF && ch === stop) {
        this.next();
        return { result, words: words.get() };
      }
      if (ch === '$') {
        const tmp = this.processDollar();
        result += tmp;
        words.addString(tmp);
      } else if ((ch === "'" || ch === '"') && !this.opts.skipProcessQuotes) {
        const tmp = ch === "'" ? this.processSingleQuote() : this.processDoubleQuote();
        result += tmp;
        words.addRaw(tmp);
      } else {
        let c = this.next();
        if (c === this.escape) {
          if (this.opts.rawEscapes) {
            words.addRaw(c);
            result += c;
          }
          c = this.next();
          if (c === EOF) break;
          words.addRaw(c);
        } else {
          words.addChar(c);
        }
        result += c;
      }
    }
    if (stop !== EOF) throw new ExpansionError(`unexpected end of statement while looking for matching ${stop}`);
    return { result, words: words.get() };
  }

  private processSingleQuote(): string {
    let result = '';
    const open = this.next();
    if (this.opts.rawQuotes) result += open;
    for (;;) {
      const ch = this.next();
      if (ch === EOF) throw new ExpansionError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") {
        if (this.opts.rawQuotes) result += ch;
        return result;
      }
      result += ch;
    }
  }

  private processDoubleQuote(): string {
    let result = '';
    const open = this.next();
    if (this.opts.rawQuotes) result += open;
    for (;;) {
      const ch = this.peek();
      if (ch === EOF) throw new ExpansionError('unexpected end of statement while looking for matching double-quote');
      if (ch === '"') {
        this.next();
        if (this.opts.rawQuotes) result += ch;
        return result;
      }
      if (ch === '$') {
        result += this.processDollar();
        continue;
      }
      let c = this.next();
      if (c === this.escape) {
        const p = this.peek();
        if (p === EOF) continue; // an escape at the very end is dropped
        if (p === '"' || p === '$' || p === this.escape) {
          if (this.opts.rawEscapes) result += c;
          c = this.next();
        }
      }
      result += c;
    }
  }

  private processName(): string {
    let name = '';
    while (this.peek() !== EOF) {
      const ch = this.peek();
      if (name.length === 0 && isDigit(ch)) {
        while (this.peek() !== EOF && isDigit(this.peek())) name += this.next();
        return name;
      }
      if (name.length === 0 && SPECIAL_PARAMS.has(ch)) return this.next();
      if (!isLetter(ch) && !isDigit(ch) && ch !== '_') break;
      name += this.next();
    }
    return name;
  }

  private unsetError(name: string, word: string, fallback: string): ExpansionError {
    return new ExpansionError(`${name}: ${word !== '' ? word : fallback}`);
  }

  private processDollar(): string {
    this.next(); // the $
    if (this.peek() !== '{') {
      const name = this.processName();
      if (name === '') return '$';
      const value = this.env(name);
      if (value === undefined && this.opts.skipUnsetEnv) return `$${name}`;
      return value ?? '';
    }
    this.next(); // the {
    const first = this.peek();
    if (first === EOF) throw new ExpansionError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new ExpansionError('syntax error: bad substitution');
    const name = this.processName();
    const ch = this.next();
    const word = (): string => {
      try {
        return this.process('}').result;
      } catch (e) {
        if (this.peek() === EOF) throw new ExpansionError("syntax error: missing '}'");
        throw e;
      }
    };
    const value = this.env(name);
    switch (ch) {
      case '}':
        if (value === undefined && this.opts.skipUnsetEnv) return `\${${name}}`;
        return value ?? '';
      case '?': {
        const w = word();
        if (value === undefined) throw this.unsetError(name, w, 'is not allowed to be unset');
        return value;
      }
      case ':': {
        const modifier = this.next();
        const w = word();
        if (value === undefined && this.opts.skipUnsetEnv) return `\${${name}:${modifier}${w}}`;
        const v = value ?? '';
        if (modifier === '+') return v !== '' ? w : v;
        if (modifier === '-') return v === '' ? w : v;
        if (modifier === '?') {
          if (value === undefined) throw this.unsetError(name, w, 'is not allowed to be unset');
          if (v === '') throw this.unsetError(name, w, 'is not allowed to be empty');
          return v;
        }
        throw new ExpansionError(`unsupported modifier (${modifier}) in substitution`);
      }
      case '+': {
        const w = word();
        return value !== undefined ? w : '';
      }
      case '-': {
        const w = word();
        return value !== undefined ? value : w;
      }
      case '#':
      case '%': {
        const longest = this.peek() === ch;
        if (longest) this.next();
        const w = word();
        if (value === undefined && this.opts.skipUnsetEnv) return `\${${name}${ch}${longest ? ch : ''}${w}}`;
        return trimPattern(value ?? '', w, ch === '#' ? 'prefix' : 'suffix', longest);
      }
      case '/': {
        const all = this.peek() === '/';
        if (all) this.next();
        const pattern = this.process('/').result;
        const replacement = word();
        if (value === undefined && this.opts.skipUnsetEnv) return `\${${name}/${all ? '/' : ''}${pattern}/${replacement}}`;
        const re = globToRegExp(pattern, all ? 'g' : '');
        return pattern === '' ? (value ?? '') : (value ?? '').replace(re, () => replacement);
      }
      case EOF:
        throw new ExpansionError("syntax error: missing '}'");
      default:
        throw new ExpansionError(`unsupported modifier (${ch}) in substitution`);
    }
  }
}

/** A shell pattern (`*`, `?`, `[…]`, `\\x`) as a regular expression source. */
function globSource(pattern: string): string {
  let out = '';
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] ?? '';
    if (c === '*') out += '[\\s\\S]*';
    else if (c === '?') out += '[\\s\\S]';
    else if (c === '\\' && i + 1 < chars.length) out += escapeRe(chars[++i] ?? '');
    else if (c === '[') {
      const end = chars.indexOf(']', i + 2);
      if (end < 0) out += '\\[';
      else {
        let body = chars.slice(i + 1, end).join('');
        if (body.startsWith('!')) body = '^' + body.slice(1);
        out += `[${body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else out += escapeRe(c);
  }
  return out;
}
const escapeRe = (c: string): string => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
function globToRegExp(pattern: string, flags: string): RegExp {
  return new RegExp(globSource(pattern), flags);
}

/** `${V#p}`, `${V##p}`, `${V%p}`, `${V%%p}`: the value without its shortest/longest matching prefix/suffix. */
function trimPattern(value: string, pattern: string, side: 'prefix' | 'suffix', longest: boolean): string {
  const re = new RegExp(`^(?:${globSource(pattern)})$`);
  const n = value.length;
  for (let k = 0; k <= n; k++) {
    const len = longest ? n - k : k;
    const part = side === 'prefix' ? value.slice(0, len) : value.slice(n - len);
    if (re.test(part)) return side === 'prefix' ? value.slice(len) : value.slice(0, n - len);
  }
  return value;
}

/** Expands one word (BuildKit's ProcessWord): variables substituted, quotes and escapes removed, no splitting. */
export function processWord(word: string, env: EnvLookup, opts: LexOptions = {}): string {
  return new ShellWord(word, env, opts).process(EOF).result;
}

/** Expands and splits into words (BuildKit's ProcessWords): whitespace outside quotes separates words. */
export function processWords(word: string, env: EnvLookup, opts: LexOptions = {}): string[] {
  return new ShellWord(word, env, opts).process(EOF).words;
}

/** No variables set. */
export const emptyEnv: EnvLookup = () => undefined;
