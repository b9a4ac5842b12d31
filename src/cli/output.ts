/**
 * The CLI's own printing: warnings and errors on stderr, with colour when allowed. Along with the
 * renderers, the only place that writes to the terminal and the only user of chalk.
 *
 * It also makes the one decision about control characters that every writer follows (`decideAnsi`, and
 * `decideProgress` for the progress display), as docker compose does (cmd/compose/compose.go: resolveAnsiMode,
 * applyAnsiMode, selectEventProcessor; cmd/formatter/colors.go): `--ansi`, else COMPOSE_ANSI, else auto; NO_COLOR
 * (non-empty) and a command's `--no-color` turn colours off; `--progress`, else COMPOSE_PROGRESS, else auto.
 */
import { Chalk } from 'chalk';
import { writeFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { TsComposeError, UsageError, isTsComposeError } from '../errors.js';
import { errnoCode } from '../lib/errors.js';

export interface Output {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  warn(message: string): void;
  error(e: unknown): number;
}

export type AnsiMode = 'auto' | 'always' | 'never';
const ANSI_MODES: readonly string[] = ['auto', 'always', 'never'];

/** The progress displays (`--progress`): `auto` resolves to tty or plain. */
export type ProgressMode = 'auto' | 'tty' | 'plain' | 'json' | 'quiet';
const PROGRESS_MODES: readonly string[] = ['auto', 'tty', 'plain', 'json', 'quiet'];

/** An environment variable, with an empty value taken as unset. */
function setting(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}

/** `--ansi` (undefined when not on the command line), else COMPOSE_ANSI, else auto; a COMPOSE_ANSI of another value is a usage error. */
export function resolveAnsiMode(ansi: string | undefined, env: NodeJS.ProcessEnv = process.env): AnsiMode {
  if (ansi !== undefined) return ansi as AnsiMode; // the parser allows only the three
  const v = setting(env, 'COMPOSE_ANSI');
  if (v === undefined) return 'auto';
  if (!ANSI_MODES.includes(v)) throw new UsageError(`invalid COMPOSE_ANSI value: ${v}`, { hint: 'COMPOSE_ANSI is never, always or auto' });
  return v as AnsiMode;
}

export interface AnsiInputs {
  /** `--ansi` as given; undefined when not on the command line (then COMPOSE_ANSI counts). */
  readonly ansi?: string | undefined;
  /** A command's `--no-color` (false when given). */
  readonly color?: boolean | undefined;
  /** Whether the stream written to is a terminal. */
  readonly isTTY: boolean;
  /** NO_COLOR, COMPOSE_ANSI. */
  readonly env?: NodeJS.ProcessEnv | undefined;
}

export interface AnsiDecision {
  readonly mode: AnsiMode;
  /** Control characters at all: cursor movement (the repainted progress display), and colours unless `colour` says no. */
  readonly escapes: boolean;
  /** Colours: needs `escapes`, and neither NO_COLOR nor `--no-color`. */
  readonly colour: boolean;
}

/**
 * The one decision about control characters on a stream: `--ansi never` none, `--ansi always` even to a pipe or
 * file, auto only to a terminal; colours besides need NO_COLOR unset (or empty) and no `--no-color`.
 */
export function decideAnsi(i: AnsiInputs): AnsiDecision {
  const env = i.env ?? process.env;
  const mode = resolveAnsiMode(i.ansi, env);
  const escapes = mode === 'always' || (mode === 'auto' && i.isTTY);
  return { mode, escapes, colour: escapes && setting(env, 'NO_COLOR') === undefined && i.color !== false };
}

export interface ProgressInputs {
  /** `--progress` as given; undefined when not on the command line (then COMPOSE_PROGRESS counts). */
  readonly progress?: string | undefined;
  readonly ansi?: string | undefined;
  /** Whether the stream the display goes to (stderr) is a terminal, and its width. */
  readonly isTTY: boolean;
  readonly columns?: number | undefined;
  readonly env?: NodeJS.ProcessEnv | undefined;
}

/**
 * The progress display, as docker compose picks it: auto is tty on a terminal unless `--ansi never`, else plain;
 * `tty` with `--ansi never` and `plain` with `--ansi always` are usage errors (docker compose's); `none` is quiet.
 * A tty display needs a terminal with a width (it repaints): without one it falls back to plain.
 */
export function decideProgress(i: ProgressInputs): Exclude<ProgressMode, 'auto'> {
  const env = i.env ?? process.env;
  const fromEnv = i.progress === undefined;
  let m = i.progress ?? setting(env, 'COMPOSE_PROGRESS') ?? 'auto';
  if (m === 'none') m = 'quiet';
  if (!PROGRESS_MODES.includes(m))
    throw new UsageError(`invalid COMPOSE_PROGRESS value: ${m}`, { hint: `COMPOSE_PROGRESS is ${PROGRESS_MODES.join(', ')}` });
  const ansi = resolveAnsiMode(i.ansi, env);
  const source = fromEnv ? `COMPOSE_PROGRESS=${m}` : `--progress ${m}`;
  const ansiSource = i.ansi === undefined ? `COMPOSE_ANSI=${ansi}` : `--ansi ${ansi}`;
  if (m === 'tty' && ansi === 'never') throw new UsageError(`can't use ${source} while ANSI support is disabled (${ansiSource})`);
  if (m === 'plain' && ansi === 'always') throw new UsageError(`can't use ${source} while ANSI support is forced (${ansiSource})`);
  if (m === 'auto') m = ansi !== 'never' && i.isTTY ? 'tty' : 'plain';
  if (m === 'tty' && !(i.isTTY && (i.columns ?? 0) > 0)) m = 'plain';
  return m as Exclude<ProgressMode, 'auto'>;
}

/** Checks the settings every command shares (COMPOSE_ANSI, COMPOSE_PROGRESS and their combination with the flags) before it runs. */
export function checkTerminalSettings(
  globals: { ansi?: string | undefined; progress?: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
): void {
  decideProgress({ ansi: globals.ansi, progress: globals.progress, isTTY: false, env });
}

/** Whether container logs (`logs`, attached `up`) on stdout are coloured (decideAnsi). */
export function logColour(ansi: string | undefined, colorFlag: boolean | undefined, stdout: { isTTY?: boolean } = process.stdout): boolean {
  return decideAnsi({ ansi, color: colorFlag, isTTY: stdout.isTTY === true }).colour;
}

/** The CLI's warnings and errors (on stderr, coloured as decideAnsi says for stderr); an invalid COMPOSE_ANSI counts as auto here (it is reported as an error). */
export function createOutput(
  ansi?: string,
  stdout: NodeJS.WritableStream = process.stdout,
  stderr: NodeJS.WritableStream = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): Output {
  const isTTY = (stderr as { isTTY?: boolean }).isTTY === true;
  let colour: boolean;
  try {
    colour = decideAnsi({ ansi, isTTY, env }).colour;
  } catch {
    colour = decideAnsi({ ansi: 'auto', isTTY, env }).colour;
  }
  const c = new Chalk({ level: colour ? 1 : 0 });
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
