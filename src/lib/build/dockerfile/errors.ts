/**
 * The Dockerfile front end's errors: a syntax error (with the file and line it comes from, as BuildKit's
 * "dockerfile parse error on line N") and a build target that names no stage.
 */
import { CodedError, type CodedErrorOptions } from '../../errors.js';

/** Where something is in a Dockerfile: its file name and 1-based first/last line. */
export interface Position {
  readonly file: string;
  readonly startLine: number;
  readonly endLine: number;
}

/** A Dockerfile that cannot be parsed or whose instructions are invalid; the message starts with `file:line:`. */
export class DockerfileSyntaxError extends CodedError {
  readonly file: string;
  readonly line: number;
  readonly endLine: number;
  readonly detail: string;
  constructor(pos: Position, detail: string, options: CodedErrorOptions = {}) {
    super('TSC_DOCKERFILE_SYNTAX', `${pos.file}:${pos.startLine}: ${detail}`, {
      hint: 'see the Dockerfile reference: https://docs.docker.com/reference/dockerfile/',
      ...options,
    });
    this.file = pos.file;
    this.line = pos.startLine;
    this.endLine = pos.endLine;
    this.detail = detail;
  }
}

/** A build target (`--target`, compose `build.target`) that names no stage of the Dockerfile. */
export class UnknownTargetError extends CodedError {
  readonly target: string;
  constructor(target: string, file: string, stages: readonly string[]) {
    super('TSC_DOCKERFILE_TARGET', `${file}: target stage "${target}" could not be found`, {
      hint: stages.length > 0 ? `the named stages are: ${stages.join(', ')}` : 'the Dockerfile names no stage (FROM … AS name)',
    });
    this.target = target;
  }
}

/** A variable expansion that fails (`${V:?message}`, a missing `}`, an unterminated quote). */
export class ExpansionError extends Error {
  override get name(): string {
    return 'ExpansionError';
  }
}
