/**
 * Typed errors. Every error a user can cause is a TsComposeError with a stable code, an exit code and an
 * optional hint. Only the CLI entry point formats them and exits; nothing else prints or exits.
 */
import { CodedError, type CodedErrorOptions } from './lib/errors.js';

/** A position in a source file, 1-based line and column. */
export interface SourcePosition {
  readonly file: string;
  readonly line?: number;
  readonly col?: number;
}

export function formatPosition(pos: SourcePosition): string {
  if (pos.line === undefined) return pos.file;
  return pos.col === undefined ? `${pos.file}:${pos.line}` : `${pos.file}:${pos.line}:${pos.col}`;
}

export type TsComposeErrorOptions = CodedErrorOptions;

/** tscompose's own errors: a CodedError (code, exit code, hint) that the CLI formats. */
export class TsComposeError extends CodedError {}

/** Any error with a code, an exit code and a hint: tscompose's own or a library's (src/lib). */
export function isTsComposeError(e: unknown): e is CodedError {
  return e instanceof CodedError;
}

/** A compose file (or env file) that cannot be read or parsed, with a position where there is one. */
export class ConfigError extends TsComposeError {
  readonly position: SourcePosition | undefined;
  readonly detail: string;
  constructor(code: string, detail: string, position?: SourcePosition, options: TsComposeErrorOptions = {}) {
    super(code, position ? `${formatPosition(position)}: ${detail}` : detail, options);
    this.position = position;
    this.detail = detail;
  }
}

/** YAML syntax errors. */
export class YamlSyntaxError extends ConfigError {
  constructor(detail: string, position: SourcePosition) {
    super('TSC_YAML_SYNTAX', detail, position);
  }
}

/** One schema violation: the path in the document (`services.web.ports[0]`) and what was expected. */
export interface SchemaIssue {
  readonly path: string;
  readonly message: string;
  readonly position?: SourcePosition;
}

/** Schema validation failed; `issues` lists every violation found (the message shows the first ones). */
export class ConfigValidationError extends ConfigError {
  readonly issues: readonly SchemaIssue[];
  constructor(issues: readonly SchemaIssue[], fallbackFile: string) {
    const first = issues[0];
    const detail = issues
      .map((i) => (i === first ? '' : `\n  ${i.position ? formatPosition(i.position) + ': ' : ''}`) + `${i.path}: ${i.message}`)
      .join('');
    super('TSC_SCHEMA', detail, first?.position ?? { file: fallbackFile });
    this.issues = issues;
  }
}

/** `${VAR:?message}` with VAR unset or empty, or a malformed `${...}`. */
export class InterpolationError extends ConfigError {
  constructor(detail: string, position?: SourcePosition) {
    super('TSC_INTERPOLATION', detail, position);
  }
}

/** The project does not hang together: undefined references, conflicting keys, bad values after loading. */
export class ConsistencyError extends ConfigError {
  constructor(detail: string, position?: SourcePosition, options: TsComposeErrorOptions = {}) {
    super('TSC_CONSISTENCY', detail, position, options);
  }
}

/** A dependency cycle between services (`a -> b -> a`) or between included/extended files. */
export class DependencyCycleError extends TsComposeError {
  readonly cycle: readonly string[];
  constructor(cycle: readonly string[], what = 'dependency cycle detected') {
    super('TSC_CYCLE', `${what}: ${cycle.join(' -> ')}`);
    this.cycle = cycle;
  }
}

/** A file that should exist (compose file, env file, extends target, include) does not. */
export class FileNotFoundError extends ConfigError {
  constructor(detail: string, position?: SourcePosition, options: TsComposeErrorOptions = {}) {
    super('TSC_FILE_NOT_FOUND', detail, position, options);
  }
}

/** Command-line usage mistakes (bad flag values, conflicting flags). */
export class UsageError extends TsComposeError {
  constructor(message: string, options: TsComposeErrorOptions = {}) {
    super('TSC_USAGE', message, { exitCode: 1, ...options });
  }
}

/** A bug in tscompose itself. */
export class InternalError extends TsComposeError {
  constructor(message: string, cause?: unknown) {
    super('TSC_INTERNAL', message, {
      cause,
      hint: 'This is a bug in tscompose; please report it with the command you ran.',
      exitCode: 70,
    });
  }
}
