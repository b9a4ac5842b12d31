/**
 * The command-line program: global options (as docker compose) and one lazily imported module per command,
 * so `tscompose config` never loads runtime code.
 */
import { Command, Option } from '@commander-js/extra-typings';
import type { LoadOptions } from '../project/load.js';
import type { Output } from './output.js';

export interface GlobalOptions {
  file?: string[];
  projectName?: string;
  projectDirectory?: string;
  envFile?: string[];
  profile?: string[];
  parallel?: string;
  progress?: string;
  ansi?: string;
  dryRun?: boolean;
  runtime?: string;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export interface CommandContext {
  readonly globals: GlobalOptions;
  readonly out: Output;
  /** LoadOptions built from the global options (and the services named on the command line). */
  loadOptions(services?: readonly string[]): LoadOptions;
}

export function buildProgram(makeContext: (globals: GlobalOptions) => CommandContext): Command {
  const program = new Command('tscompose')
    .description('Define and run multi-container applications: docker compose, in TypeScript, with Docker or a native runtime')
    .version('0.1.0', '-v, --version')
    .showSuggestionAfterError(true)
    .enablePositionalOptions()
    .option('-f, --file <file>', 'compose configuration file (repeatable; - for stdin)', collect)
    .option('-p, --project-name <name>', 'project name')
    .option('--project-directory <dir>', 'alternate working directory (default: the directory of the first compose file)')
    .option('--env-file <file>', 'alternate environment file (repeatable)', collect)
    .option('--profile <profile>', 'profile to enable (repeatable)', collect)
    .option('--parallel <n>', 'maximum parallelism, -1 for unlimited')
    .addOption(new Option('--progress <mode>', 'progress output').choices(['auto', 'tty', 'plain', 'json', 'quiet']))
    .addOption(new Option('--ansi <when>', 'control characters: never, always, auto').choices(['never', 'always', 'auto']).default('auto'))
    .option('--dry-run', 'show what would change, change nothing')
    .addOption(new Option('--runtime <runtime>', 'container runtime').choices(['docker', 'native', 'auto']).env('TSCOMPOSE_RUNTIME'));

  const ctx = (cmd: { optsWithGlobals(): object }): CommandContext => makeContext(cmd.optsWithGlobals() as GlobalOptions);

  program
    .command('config')
    .description('Parse, resolve and render the compose file in canonical format')
    .addOption(new Option('--format <format>', 'output format').choices(['yaml', 'json']).default('yaml'))
    .option('-o, --output <file>', 'save to file (default: stdout)')
    .option('-q, --quiet', 'only validate the configuration, print nothing')
    .option('--services', 'print the service names, one per line')
    .option('--volumes', 'print the volume names, one per line')
    .option('--networks', 'print the network names, one per line')
    .option('--profiles', 'print the profile names, one per line')
    .option('--images', 'print the image names, one per line')
    .option('--hash <services>', 'print the config hash of the services ("*" for all)')
    .option('--no-interpolate', "don't interpolate environment variables")
    .option('--no-consistency', "don't check model consistency (report problems as warnings)")
    .argument('[services...]', 'services to render')
    .action(async (services, opts, cmd) => {
      const { runConfig } = await import('./commands/config.js');
      await runConfig(ctx(cmd), services, opts);
    });

  return program;
}
