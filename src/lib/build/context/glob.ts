/**
 * `COPY`/`ADD` source globs as BuildKit resolves them (tonistiigi/fsutil copy `ResolveWildcards`): the source is
 * split at its first component holding a wildcard; the part before is a path (symlinks followed), the rest is
 * matched with Go's `filepath.Match` against each path below it (`*` and `?` never cross a `/`, `[a-z]` and
 * `[^a-z]` classes, `\x` escapes the character x). A matched directory is not searched further.
 */
import { ContextPatternError } from './errors.js';

/** Whether a path component holds a wildcard (`*`, `?`, `[`) that is not escaped. */
export function containsWildcards(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const ch = name[i];
    if (ch === '\\') i++;
    else if (ch === '*' || ch === '?' || ch === '[') return true;
  }
  return false;
}

/** The cleaned relative source split into the literal prefix and the wildcard rest (`''` when there is none). */
export function splitWildcards(rel: string): { base: string; pattern: string } {
  const parts = rel === '.' ? [] : rel.split('/');
  const at = parts.findIndex(containsWildcards);
  if (at < 0) return { base: rel, pattern: '' };
  return { base: at === 0 ? '.' : parts.slice(0, at).join('/'), pattern: parts.slice(at).join('/') };
}

function escapeRegExp(ch: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(ch) ? `\\${ch}` : ch;
}

/** Go's `filepath.Match` pattern as an anchored regular expression; a malformed pattern is a ContextPatternError. */
export function globToRegExp(pattern: string): RegExp {
  const chars = [...pattern];
  let re = '^';
  const bad = (detail: string): never => {
    throw new ContextPatternError(pattern, detail);
  };
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '\\') {
      const next = chars[++i];
      if (next === undefined) bad('trailing backslash');
      re += escapeRegExp(next!);
    } else if (ch === '[') {
      let cls = '[';
      i++;
      if (chars[i] === '^') {
        cls += '^';
        i++;
      }
      let ranges = 0;
      for (;;) {
        const c = chars[i];
        if (c === undefined) bad('unterminated character class');
        if (c === ']' && ranges > 0) break;
        // As Go's getEsc: an unescaped `-` or `]` cannot start a range (`[]a]`, `[-a]`, `[a-]` are errors).
        if (c === ']' || c === '-') bad('bad character range');
        let lo = c!;
        if (lo === '\\') {
          lo = chars[++i] ?? bad('trailing backslash');
        }
        i++;
        let item = escapeRegExp(lo);
        if (chars[i] === '-') {
          let hi = chars[i + 1] ?? bad('unterminated character class');
          if (hi === ']' || hi === '-') bad('bad character range');
          i += 2;
          if (hi === '\\') {
            hi = chars[i] ?? bad('trailing backslash');
            i++;
          }
          if (hi < lo) bad('character range out of order');
          item += `-${escapeRegExp(hi)}`;
        }
        cls += item;
        ranges++;
      }
      re += `${cls}]`;
    } else re += escapeRegExp(ch);
  }
  return new RegExp(`${re}$`);
}
