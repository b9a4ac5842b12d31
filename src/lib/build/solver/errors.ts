/** The native builder's errors: a stable code, an exit code and a hint each (src/lib/errors.ts). */
import { CodedError, type CodedErrorOptions } from '../../errors.js';

/** A RUN step that exited non-zero: the command, its status and its last lines of output. */
export class RunStepError extends CodedError {
  /** The process's exit status. */
  readonly status: number;
  readonly lastLines: readonly string[];
  constructor(
    readonly where: string,
    readonly command: string,
    exitCode: number,
    lastLines: readonly string[],
  ) {
    const tail = lastLines.length > 0 ? `\n${lastLines.map((l) => `  ${l}`).join('\n')}` : '';
    super('TSC_BUILD_RUN', `${where}: process "${command}" did not complete successfully: exit code: ${exitCode}${tail}`, {
      hint: 'the lines above are the end of its output',
    });
    this.status = exitCode;
    this.lastLines = lastLines;
  }
}

/** Something the builder cannot do (another platform, an ssh mount, a missing secret, …). */
export class BuildUnsupportedError extends CodedError {
  constructor(detail: string, options: CodedErrorOptions = {}) {
    super('TSC_BUILD_UNSUPPORTED', detail, options);
  }
}

/** A build stopped by Ctrl-C or its caller. */
export class BuildCanceledError extends CodedError {
  constructor() {
    super('TSC_BUILD_CANCELED', 'the build was canceled', { exitCode: 130 });
  }
}
