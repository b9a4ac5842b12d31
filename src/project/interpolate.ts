/**
 * Phase 2: variable interpolation, as compose-go `template/template.go` and `interpolation/interpolation.go`.
 *
 * Syntax: `$VAR`, `${VAR}`, `${VAR:-default}` (unset or empty), `${VAR-default}` (unset), `${VAR:?err}` /
 * `${VAR?err}` (fail when unset or empty / unset), `${VAR:+alt}` / `${VAR+alt}` (alt when set and non-empty /
 * set), `$$` for a literal `$`. Names are `[_a-zA-Z][_a-zA-Z0-9]*`. Defaults, alternatives and error messages
 * are themselves interpolated, lazily (only when used), so they nest: `${A:-${B:-x}}`, `${A?$B}`.
 *
 * The scanner reproduces compose-go's quirks on purpose, so that odd input gives the same result:
 * - a `${` is matched greedily up to the last `}` on the line, then cut at the `}` that closes the first `{`
 *   (brace counting that skips the character after each `{`); the text after the cut is interpolated on its own;
 * - a `$` not followed by `$`, a name or `{` is kept literally (`a $ string`, `$1`, `^REGEX$`);
 * - a `${` not followed by `name}` or `name<op>...}` is an invalid template;
 * - an unset variable without default becomes `""` with a warning (a set but empty one gives no warning).
 *
 * `interpolateTree` applies this to every string value of a parsed compose file (never to keys) and reports
 * errors with compose-go's wording (`error while interpolating services.web.image: ...`, list items as `[]`)
 * plus the source position of the offending value.
 */
import { InterpolationError, type SourcePosition } from '../errors.js';
import { formatPath, mapStrings, type ParsedYaml } from './yaml.js';

/** Variable lookup: the value, or `undefined` when the variable is not set. */
export type Lookup = (name: string) => string | undefined;

export interface InterpolationResult {
  readonly value: string;
  /** One `The "X" variable is not set. Defaulting to a blank string.` per unset variable used without default. */
  readonly warnings: string[];
}

/** `${VAR:?reason}` / `${VAR?reason}` with VAR missing (compose-go `MissingRequiredError`). */
export class MissingVariableError extends InterpolationError {
  readonly variable: string;
  readonly reason: string;
  /** The dotted path of the value (`services.web.image`), when raised by {@link interpolateTree}. */
  readonly path: string | undefined;
  constructor(variable: string, reason: string, path?: string, position?: SourcePosition) {
    const base = reason === '' ? `required variable ${variable} is missing a value` : `required variable ${variable} is missing a value: ${reason}`;
    super(path === undefined ? base : `error while interpolating ${path}: ${base}`, position);
    this.variable = variable;
    this.reason = reason;
    this.path = path;
  }
}

/** A malformed `${...}` (compose-go `InvalidTemplateError`). `template` is the string that holds it. */
export class InvalidTemplateError extends InterpolationError {
  readonly template: string;
  readonly path: string | undefined;
  constructor(template: string, path?: string, position?: SourcePosition) {
    super(
      path === undefined
        ? `Invalid template: ${goQuote(template)}`
        : `invalid interpolation format for ${path}.\nYou may need to escape any $ with another $.\n${template}`,
      position,
    );
    this.template = template;
    this.path = path;
  }
}

/** Interpolates one string. Throws {@link MissingVariableError} or {@link InvalidTemplateError}. */
export function interpolateString(s: string, lookup: Lookup): InterpolationResult {
  const warnings: string[] = [];
  try {
    return { value: substitute(s, lookup, (m) => warnings.push(m)), warnings };
  } catch (e) {
    throw toPublicError(e);
  }
}

/**
 * Interpolates every string value in `data` (objects, arrays, {@link Tagged} markers; keys are left alone).
 * `data` is not modified; what did not change is shared with it (see mapStrings). Errors name the value's path
 * and carry its position.
 */
export function interpolateTree(
  data: unknown,
  lookup: Lookup,
  source: Pick<ParsedYaml, 'file' | 'locate'>,
  onWarning?: (msg: string) => void,
): unknown {
  const warn = onWarning ?? (() => {});
  return mapStrings(data, (value, path) => {
    try {
      return substitute(value, lookup, warn);
    } catch (e) {
      throw toPublicError(e, formatPath(path), source.locate(path));
    }
  });
}

/**
 * Go's `%q` / `strconv.Quote` for a string: double quotes, `\a \b \f \n \r \t \v \\ \"`, other
 * non-printable characters as `\xNN` / `\uNNNN` / `\UNNNNNNNN`.
 */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    switch (ch) {
      case '\x07':
        out += '\\a';
        continue;
      case '\b':
        out += '\\b';
        continue;
      case '\f':
        out += '\\f';
        continue;
      case '\n':
        out += '\\n';
        continue;
      case '\r':
        out += '\\r';
        continue;
      case '\t':
        out += '\\t';
        continue;
      case '\v':
        out += '\\v';
        continue;
      case '\\':
        out += '\\\\';
        continue;
      case '"':
        out += '\\"';
        continue;
    }
    if (ch === ' ' || PRINTABLE.test(ch)) out += ch;
    else if (cp < 0x80) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if (cp < 0x10000) out += '\\u' + cp.toString(16).padStart(4, '0');
    else out += '\\U' + cp.toString(16).padStart(8, '0');
  }
  return out + '"';
}
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

// ---------------------------------------------------------------------------------------------------------
// The template engine.

/** Internal failures; converted to the public error classes at the API boundary. */
class InvalidTemplate {
  constructor(public template: string | undefined) {}
}
class MissingRequired {
  constructor(
    readonly variable: string,
    readonly reason: string,
  ) {}
}

function toPublicError(e: unknown, path?: string, position?: SourcePosition): unknown {
  if (e instanceof InvalidTemplate) return new InvalidTemplateError(e.template ?? '', path, position);
  if (e instanceof MissingRequired) return new MissingVariableError(e.variable, e.reason, path, position);
  return e;
}

/*
 * compose-go's pattern: `$` then one of `$` (escaped), a name (named), `{name}` or `{name<op>anything}` (braced;
 * `anything` is greedy, to the last `}` of the line), or `{` alone (invalid). `.` in Go does not match `\n` only,
 * hence `[^\n]`. `i` + `u` give Go's case folding (`(?i)[a-z]` also matches U+212A KELVIN SIGN and U+017F).
 */
const PATTERN_SOURCE = String.raw`\$(?:(\$)|([_a-z][_a-z0-9]*)|\{(?:([_a-z][_a-z0-9]*(?::?[-+?][^\n]*)?)\}|()))`;
const PATTERN_ALL = new RegExp(PATTERN_SOURCE, 'giu');
const PATTERN_ONE = new RegExp(PATTERN_SOURCE, 'iu');

type Warn = (msg: string) => void;
/** Applies one `${name<op>arg}`; `applied` false when `substitution` does not contain the operator. */
type OperatorFn = (substitution: string, lookup: Lookup, warn: Warn) => { value: string; applied: boolean };

const OPERATORS: readonly (readonly [string, OperatorFn])[] = [
  [':?', (s, l, w) => required(s, l, w, ':?', true)],
  ['?', (s, l, w) => required(s, l, w, '?', false)],
  [':-', (s, l, w) => defaultWhenAbsent(s, l, w, ':-', true)],
  ['-', (s, l, w) => defaultWhenAbsent(s, l, w, '-', false)],
  [':+', (s, l, w) => alternativeWhenPresent(s, l, w, ':+', true)],
  ['+', (s, l, w) => alternativeWhenPresent(s, l, w, '+', false)],
];

function substitute(template: string, lookup: Lookup, warn: Warn): string {
  let firstError: unknown;
  // Like Go's ReplaceAllStringFunc: every match is replaced (warnings included) and the first error wins.
  const result = template.replace(PATTERN_ALL, (match: string) => {
    try {
      return replaceMatch(match, lookup, warn);
    } catch (e) {
      if (e instanceof InvalidTemplate && e.template === undefined) e.template = template;
      firstError ??= e;
      return '';
    }
  });
  if (firstError !== undefined) throw firstError;
  return result;
}

function replaceMatch(match: string, lookup: Lookup, warn: Warn): string {
  // The operator is chosen on the whole (greedy) match: the earliest operator string in it.
  const operator = earliestOperator(match);

  let substring = match;
  let rest = '';
  const closing = firstClosingBrace(match);
  if (closing > -1) {
    rest = match.slice(closing + 1);
    substring = match.slice(0, closing + 1);
  }

  const groups = PATTERN_ONE.exec(substring);
  if (groups?.[1]) return groups[1]; // `$$`
  const named = groups?.[2] ?? '';
  const substitution = named !== '' ? named : (groups?.[3] ?? '');
  if (substitution === '') throw new InvalidTemplate(undefined);

  if (named === '' && operator) {
    const { value, applied } = operator(substitution, lookup, warn);
    if (applied) return value + substitute(rest, lookup, warn);
  }

  const value = lookup(substitution);
  if (value === undefined) {
    warn(`The "${substitution}" variable is not set. Defaulting to a blank string.`);
    return '';
  }
  return value;
}

function earliestOperator(s: string): OperatorFn | undefined {
  let best: OperatorFn | undefined;
  let bestIndex = Infinity;
  for (const [op, fn] of OPERATORS) {
    const i = s.indexOf(op);
    if (i >= 0 && i < bestIndex) {
      best = fn;
      bestIndex = i;
    }
  }
  return best;
}

/** Index of the `}` closing the first `{`, counting nesting; the character after each `{` is skipped (as compose-go). */
export function firstClosingBrace(s: string): number {
  let open = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '}') {
      open--;
      if (open === 0) return i;
    }
    if (s[i] === '{') {
      open++;
      i++;
    }
  }
  return -1;
}

/** Splits at the first `sep`. */
function partition(s: string, sep: string): [string, string] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + sep.length)];
}

function defaultWhenAbsent(substitution: string, lookup: Lookup, warn: Warn, sep: string, orEmpty: boolean) {
  if (!substitution.includes(sep)) return { value: '', applied: false };
  const [name, fallback] = partition(substitution, sep);
  const value = lookup(name);
  if (value === undefined || (orEmpty && value === '')) return { value: substitute(fallback, lookup, warn), applied: true };
  return { value, applied: true };
}

function alternativeWhenPresent(substitution: string, lookup: Lookup, warn: Warn, sep: string, nonEmpty: boolean) {
  if (!substitution.includes(sep)) return { value: '', applied: false };
  const [name, alternative] = partition(substitution, sep);
  const value = lookup(name);
  if (value !== undefined && (!nonEmpty || value !== '')) return { value: substitute(alternative, lookup, warn), applied: true };
  return { value: value ?? '', applied: true };
}

function required(substitution: string, lookup: Lookup, warn: Warn, sep: string, nonEmpty: boolean) {
  if (!substitution.includes(sep)) return { value: '', applied: false };
  const [name, message] = partition(substitution, sep);
  const value = lookup(name);
  if (value === undefined || (nonEmpty && value === '')) throw new MissingRequired(name, substitute(message, lookup, warn));
  return { value, applied: true };
}
