/**
 * The CLI's body: the only place that formats errors and turns them into an exit code. Started by main.ts
 * (the unbundled entry) or by the bundle (bundle-entry.ts, run by bin/tscompose).
 */
import { CommanderError } from '@commander-js/extra-typings';
import { readFileSync } from 'node:fs';
import type { CommandContext, GlobalOptions } from './context.js';
import { buildProgram } from './program.js';
import { checkTerminalSettings, createOutput } from './output.js';
import { traced } from '../util/trace.js';

/**
 * A reader that went away (`tscompose logs | head`): stop quietly, as docker compose does, instead of an unhandled
 * EPIPE with a stack trace. Whatever the command was doing (following logs) has no one to tell any more.
 */
function quitOnClosedStdout(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

export async function main(argv: readonly string[]): Promise<number> {
  quitOnClosedStdout();
  // Colours as COMPOSE_ANSI says until the command line is parsed, then as `--ansi` (output.ts decideAnsi).
  let out = createOutput();
  const makeContext = (globals: GlobalOptions): CommandContext => {
    out = createOutput(globals.ansi);
    const o = out;
    // An invalid COMPOSE_ANSI or COMPOSE_PROGRESS, or `--progress tty` with `--ansi never`: refused before the command runs.
    checkTerminalSettings(globals);
    return {
      globals,
      out: o,
      loadOptions: (services = []) => ({
        ...(globals.file ? { files: globals.file } : {}),
        ...(globals.projectName ? { projectName: globals.projectName } : {}),
        ...(globals.projectDirectory ? { projectDirectory: globals.projectDirectory } : {}),
        ...(globals.envFile ? { envFiles: globals.envFile } : {}),
        ...(globals.profile ? { profiles: globals.profile } : {}),
        services,
        readStdin: () => readFileSync(0, 'utf8'),
        onWarning: (msg: string) => o.warn(msg),
      }),
    };
  };
  const program = buildProgram(makeContext);
  program.exitOverride();
  try {
    await traced('cli.command', () => program.parseAsync(argv as string[], { from: 'user' }));
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    // Ctrl-C: the user knows; exit 130 quietly.
    if ((e as { code?: unknown }).code === 'TSC_CANCELED') return (e as { exitCode: number }).exitCode;
    return out.error(e);
  }
}
