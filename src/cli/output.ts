/**
 * The CLI's own printing: warnings and errors on stderr, with colour when allowed. Along with the
 * renderers, the only place that writes to the terminal and the only user of chalk.
 */
import chalk, { Chalk } from 'chalk';
import { writeFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { TsComposeError, isTsComposeError } from '../errors.js';
import { errnoCode } from '../lib/errors.js';

export interface Output {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  warn(message: string): void;
  error(e: unknown): number;
}

export type AnsiMode = 'auto' | 'always' | 'never';

/** Whether container logs (`logs`, attached `up`) are coloured: not with `--no-color`, `--ansi never` or NO_COLOR; always with `--ansi always`; else on a terminal. */
export function logColour(ansi: string | undefined, colorFlag: boolean | undefined): boolean {
  return colorFlag !== false && ansi !== 'never' && !process.env.NO_COLOR && (ansi === 'always' || process.stdout.isTTY === true);
}

export function createOutput(
  ansi: AnsiMode = 'auto',
  stdout: NodeJS.WritableStream = process.stdout,
  stderr: NodeJS.WritableStream = process.stderr,
): Output {
  const noColor = process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '';
  const level = ansi === 'never' || (ansi === 'auto' && noColor) ? 0 : ansi === 'always' ? Math.max(chalk.level, 1) : chalk.level;
  const c = new Chalk({ level: level as 0 | 1 | 2 | 3 });
  return {
    stdout,
    stderr,
    warn(message: string) {
      stderr.write(`${c.yellow('WARN')} ${message}\n`);
    },
    /** Prints an error and returns the exit code to use. */
    error(e: unknown): number {
      if (isTsComposeError(e)) {
        stderr.write(`${c.red('error')}: ${e.message}\n`);
        if (e.hint) stderr.write(`${c.dim('hint')}: ${e.hint}\n`);
        if (process.env.TSCOMPOSE_DEBUG && e.stack) stderr.write(`${e.stack}\n`);
        return e.exitCode;
      }
      const err = e instanceof Error ? e : new Error(String(e));
      stderr.write(`${c.red('internal error')}: ${err.message}\n`);
      stderr.write(`${c.dim('This is a bug in tscompose; please report it with the command you ran.')}\n`);
      if (err.stack) stderr.write(`${c.dim(err.stack)}\n`);
      return 70;
    },
  };
}

/**
 * Copies a binary stream (an image archive) to `out` with backpressure. A closed pipe (`| head -c`) ends the copy
 * with an error instead of an unhandled 'error' event.
 */
export async function writeStream(out: NodeJS.WritableStream, data: Readable): Promise<void> {
  let broken: Error | undefined;
  const onError = (e: Error): void => {
    broken = e;
    data.destroy();
  };
  out.on('error', onError);
  try {
    for await (const chunk of data) {
      if (broken) break;
      if (!out.write(chunk as Buffer)) {
        await new Promise<void>((resolve) => {
          const go = (): void => {
            out.off('drain', go);
            out.off('error', go);
            resolve();
          };
          out.on('drain', go);
          out.on('error', go);
        });
      }
    }
  } catch (e) {
    if (!broken) throw e;
  } finally {
    out.off('error', onError);
  }
  if (broken) throw new TsComposeError('TSC_FILE', `writing to stdout: ${broken.message}`, { cause: broken });
}

/**
 * Writes a command's output to the file named by `-o`/`--output` (docker compose: the file is created or truncated).
 * A path that cannot be written — its directory missing, a directory, no permission — is the user's error
 * (TSC_OUTPUT_FILE, exit 1) naming the path, not an internal one.
 */
export function writeOutputFile(file: string, text: string | Uint8Array, flag = '--output'): void {
  try {
    writeFileSync(file, text);
  } catch (e) {
    const code = errnoCode(e);
    const why =
      code === 'ENOENT' || code === 'ENOTDIR'
        ? 'its directory does not exist'
        : code === 'EISDIR'
          ? 'it is a directory'
          : code === 'EACCES' || code === 'EPERM'
            ? 'permission denied'
            : code === 'EROFS'
              ? 'read-only file system'
              : (e as Error).message;
    throw new TsComposeError('TSC_OUTPUT_FILE', `cannot write ${flag} ${file}: ${why}`, {
      cause: e,
      hint: `${flag} takes a file path in an existing, writable directory (or leave it out to print to stdout)`,
    });
  }
}
