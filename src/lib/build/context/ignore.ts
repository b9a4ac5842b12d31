/**
 * `.dockerignore` as BuildKit and the Docker CLI read it. Our own implementation rather than @balena/dockerignore
 * (which src/runtime/docker/build-context.ts uses): that port follows moby v19.03 and differs from today's
 * moby/patternmatcher in ways a builder notices: it matches case-insensitively by default, escapes only `.` and `$`
 * (so `+`, `(`, `{`, `|` in a pattern act as regular-expression syntax), and keeps a UTF-8 BOM on the first line.
 *
 * Behaviour followed (moby/patternmatcher `ignorefile.ReadAll`, `NewPatternMatcher`, `MatchesOrParentMatches`):
 * - a line starting with `#` (in column 0) is a comment; the others are trimmed; blank lines are dropped;
 * - a leading `!` makes an exception; the rest is `filepath.Clean`ed (`./a` → `a`, `a/` → `a`, `a/../b` → `b`) and
 *   a leading `/` is dropped (patterns are relative to the context root);
 * - `*` matches within one path component, `?` one character of it, `[a-z]` a class, `\x` the character x, `**`
 *   any number of components (`**∕x` = `x` at any depth; a trailing `**` everything below);
 * - a pattern matching a directory matches everything below it; patterns apply in order and the last one that
 *   matches a path (or one of its parents) decides: excluded unless that pattern is an exception.
 * The per-Dockerfile ignore file (`<Dockerfile>.dockerignore`, next to the Dockerfile) takes precedence over the
 * context's `.dockerignore` when it exists (Dockerfile reference, ".dockerignore file").
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isMissing } from '../../errors.js';
import { ContextPatternError } from './errors.js';

/** Go's `filepath.Clean` for slash-separated paths: `.`, `..` and repeated slashes resolved, no trailing `/`. */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const out = path.posix.normalize(p);
  return out.length > 1 && out.endsWith('/') ? out.slice(0, -1) : out;
}

/** The patterns of a `.dockerignore` text, cleaned as `ignorefile.ReadAll` does (exceptions keep their `!`). */
export function parseDockerignore(text: string): string[] {
  const out: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (const line of lines) {
    if (line.startsWith('#')) continue;
    let pattern = line.trim();
    if (pattern === '') continue;
    const invert = pattern.startsWith('!');
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern.length > 0) {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    out.push(invert ? `!${pattern}` : pattern);
  }
  return out;
}

interface Rule {
  readonly pattern: string;
  readonly exception: boolean;
  readonly regexp: RegExp;
}

const REGEXP_SPECIAL = new Set([...'.+()|{}$^']);

/** patternmatcher's pattern → regular expression (anchored, case-sensitive, `/` as the separator). */
function compile(pattern: string, original: string): RegExp {
  let re = '^';
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === '*') {
      if (chars[i + 1] === '*') {
        i++;
        if (chars[i + 1] === '/') i++; // `**/` is `**`
        re += i + 1 >= chars.length ? '.*' : '(.*/)?';
      } else {
        re += '[^/]*';
      }
    } else if (ch === '?') {
      re += '[^/]';
    } else if (ch === '\\') {
      const next = chars[i + 1];
      if (next === undefined) re += '\\\\';
      else {
        re += REGEXP_SPECIAL.has(next) || '*?[]\\'.includes(next) ? `\\${next}` : next;
        i++;
      }
    } else if (ch === '[' || ch === ']') {
      re += ch;
    } else if (REGEXP_SPECIAL.has(ch)) {
      re += `\\${ch}`;
    } else {
      re += ch;
    }
  }
  re += '$';
  try {
    return new RegExp(re);
  } catch (e) {
    throw new ContextPatternError(original, 'syntax error in pattern', { cause: e });
  }
}

/** A compiled set of `.dockerignore` patterns. */
export class DockerIgnore {
  readonly patterns: readonly string[];
  /** Whether some pattern is an exception (`!…`): an excluded directory may then hold included paths. */
  readonly hasExceptions: boolean;
  private readonly rules: Rule[];

  constructor(patterns: readonly string[]) {
    this.patterns = [...patterns];
    this.rules = [];
    for (const p of patterns) {
      let pattern = p.trim();
      if (pattern === '') continue;
      const exception = pattern.startsWith('!');
      if (exception) {
        if (pattern.length === 1) throw new ContextPatternError(p, 'illegal exclusion pattern "!"');
        pattern = pattern.slice(1);
      }
      pattern = cleanPath(pattern);
      this.rules.push({ pattern, exception, regexp: compile(pattern, p) });
    }
    this.hasExceptions = this.rules.some((r) => r.exception);
  }

  /** Whether `rel` (a posix path relative to the context root) is excluded from the context. */
  ignores(rel: string): boolean {
    const file = cleanPath(rel);
    if (file === '.') return false;
    const parts = file.split('/');
    let excluded = false;
    for (const rule of this.rules) {
      // As patternmatcher: an inclusion cannot change an excluded path and vice versa; skip those rules.
      if (rule.exception !== excluded) continue;
      let match = rule.regexp.test(file);
      for (let i = 1; !match && i < parts.length; i++) match = rule.regexp.test(parts.slice(0, i).join('/'));
      if (match) excluded = !rule.exception;
    }
    return excluded;
  }

  /**
   * Whether an exception pattern could re-include something below the excluded directory `rel`, so a walk must
   * still descend into it (fsutil's walker does the same check before skipping a directory).
   */
  mayIncludeBelow(rel: string): boolean {
    if (!this.hasExceptions) return false;
    const dir = `${cleanPath(rel)}/`;
    return this.rules.some(
      (r) => r.exception && (r.pattern.includes('*') || r.pattern.includes('?') || r.pattern.includes('[') || `${r.pattern}/`.startsWith(dir)),
    );
  }
}

/** Where the patterns came from: the Dockerfile's own ignore file, the context's, or none. */
export interface IgnoreFile {
  readonly patterns: string[];
  /** The absolute path of the file read, or undefined when there was none. */
  readonly file: string | undefined;
}

/** Read synchronously: a small file read once per build, where fs.promises.readFile's round trips cost more. */
async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw e;
  }
}

/**
 * The ignore patterns of a build: `<dockerfile>.dockerignore` when it exists (`dockerfile` absolute or relative to
 * `context`; none for an inline Dockerfile), else `<context>/.dockerignore`, else none.
 */
export async function readIgnoreFile(context: string, dockerfile?: string): Promise<IgnoreFile> {
  const candidates: string[] = [];
  if (dockerfile !== undefined && dockerfile !== '') candidates.push(`${path.resolve(context, dockerfile)}.dockerignore`);
  candidates.push(path.join(path.resolve(context), '.dockerignore'));
  for (const file of candidates) {
    const text = await readIfExists(file);
    if (text !== undefined) return { patterns: parseDockerignore(text), file };
  }
  return { patterns: [], file: undefined };
}

/** `readIgnoreFile` compiled. */
export async function loadDockerIgnore(context: string, dockerfile?: string): Promise<DockerIgnore> {
  return new DockerIgnore((await readIgnoreFile(context, dockerfile)).patterns);
}
