/**
 * `version`, as docker compose's: `tscompose version v0.1.0`; `--short` the number alone; `-f/--format json`
 * `{"version":"v0.1.0",…}`. docker compose users expect it short, so the one thing tscompose adds, the native
 * runtime's OCI runtime (crun or runc) and why that one, is a second line only with `--verbose`, and a field of the
 * JSON (`nativeOciRuntime`: `{name, path, reason}`, or `{error}` where the native runtime has none). Finding it costs a
 * few stats, no spawn, and loads no runtime (src/runtime/select.ts nativeOciRuntime). `-v/--version` (program.ts)
 * prints the bare number, as before. The number is package.json's `version`, so `npm version` is the one place to bump it.
 */
import type { Command } from '@commander-js/extra-typings';
import { readFileSync } from 'node:fs';
import { UsageError } from '../../errors.js';
import type { NativeOciRuntimeInfo } from '../../runtime/select.js';
import type { ContextOf } from '../context.js';

/**
 * package.json's `version`. The file is three levels up from src/cli/commands (tests) and dist/cli/commands (the
 * build) alike, and the bundle keeps each module's own `import.meta.url` (scripts/bundle.mjs): one small read at start-up.
 */
export const VERSION: string = packageVersion(new URL('../../../package.json', import.meta.url));

export function packageVersion(file: URL): string {
  const pkg = JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown };
  if (typeof pkg.version !== 'string' || pkg.version === '') throw new Error(`${file.pathname} has no version`);
  return pkg.version;
}

export interface VersionOptions {
  readonly format?: string;
  readonly short?: true;
  readonly verbose?: true;
}

/** What `version` prints, given the OCI runtime (asked only when the output shows it). */
export async function versionText(opts: VersionOptions, oci: () => Promise<NativeOciRuntimeInfo>): Promise<string> {
  const format = opts.format ?? 'pretty';
  if (format !== 'pretty' && format !== 'json') throw new UsageError(`unsupported format: ${format} (pretty or json)`);
  if (opts.short) return `${VERSION}\n`;
  if (format === 'json') return `${JSON.stringify({ version: `v${VERSION}`, nativeOciRuntime: await oci() })}\n`;
  let out = `tscompose version v${VERSION}\n`;
  if (opts.verbose) {
    const o = await oci();
    out += 'error' in o ? `native OCI runtime: none (${o.error})\n` : `native OCI runtime: ${o.name} (${o.path}), because ${o.reason}\n`;
  }
  return out;
}

export function versionCommand(program: Command, context: ContextOf) {
  return program
    .command('version')
    .description('Show the tscompose version information')
    .option('-f, --format <format>', 'format the output: pretty or json', 'pretty')
    .option('--short', "shows only tscompose's version number")
    .option('--verbose', 'also show the OCI runtime (crun or runc) of the native runtime, and why that one')
    .action(async (opts, cmd) => {
      const oci = async (): Promise<NativeOciRuntimeInfo> => (await import('../../runtime/select.js')).nativeOciRuntime();
      context(cmd).out.stdout.write(await versionText(opts, oci));
    });
}
