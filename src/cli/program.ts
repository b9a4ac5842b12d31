/**
 * The command-line program: the global options (as docker compose) and the list of commands. Each command's
 * name, flags, help and action live in its own module under commands/; those modules load their heavy parts
 * (engine, runtime, project loader) inside the action, so `tscompose config` never loads runtime code.
 */
import { Command, Option } from '@commander-js/extra-typings';
import { attachCommand } from './commands/attach.js';
import { buildCommand } from './commands/build.js';
import { collect } from './commands/common.js';
import { configCommand } from './commands/config.js';
import { commitCommand } from './commands/commit.js';
import { completionCommand } from './commands/completion.js';
import { cpCommand } from './commands/cp.js';
import { createCommand } from './commands/create.js';
import { downCommand } from './commands/down.js';
import { eventsCommand } from './commands/events.js';
import { execCommand } from './commands/exec.js';
import { exportCommand } from './commands/export.js';
import { builderCommand } from './commands/builder.js';
import { checkCommand } from './commands/check.js';
import { imageCommand } from './commands/image/image.js';
import { imagesCommand } from './commands/images.js';
import { killCommand } from './commands/kill.js';
import { logsCommand } from './commands/logs.js';
import { lsCommand } from './commands/ls.js';
import { pauseCommand } from './commands/pause.js';
import { portCommand } from './commands/port.js';
import { psCommand } from './commands/ps.js';
import { pullCommand } from './commands/pull.js';
import { pushCommand } from './commands/push.js';
import { restartCommand } from './commands/restart.js';
import { resumeCommand } from './commands/resume.js';
import { rmCommand } from './commands/rm.js';
import { runCommand } from './commands/run.js';
import { scaleCommand } from './commands/scale.js';
import { startCommand } from './commands/start.js';
import { statsCommand } from './commands/stats.js';
import { stopCommand } from './commands/stop.js';
import { topCommand } from './commands/top.js';
import { unpauseCommand } from './commands/unpause.js';
import { upCommand } from './commands/up.js';
import { vizCommand } from './commands/viz.js';
import { volumesCommand } from './commands/volumes.js';
import { VERSION, versionCommand } from './commands/version.js';
import { waitCommand } from './commands/wait.js';
import { watchCommand } from './commands/watch.js';
import type { CommandContext, ContextOf, GlobalOptions } from './context.js';

/** In the order of `tscompose --help`. */
const COMMANDS: readonly ((program: Command, context: ContextOf) => unknown)[] = [
  configCommand,
  upCommand,
  createCommand,
  downCommand,
  psCommand,
  logsCommand,
  startCommand,
  stopCommand,
  restartCommand,
  killCommand,
  pauseCommand,
  unpauseCommand,
  rmCommand,
  execCommand,
  attachCommand,
  runCommand,
  scaleCommand,
  portCommand,
  imagesCommand,
  volumesCommand,
  lsCommand,
  topCommand,
  statsCommand,
  waitCommand,
  watchCommand,
  resumeCommand,
  eventsCommand,
  cpCommand,
  exportCommand,
  commitCommand,
  pullCommand,
  pushCommand,
  buildCommand,
  imageCommand,
  builderCommand,
  checkCommand,
  vizCommand,
  completionCommand,
  versionCommand,
];

export function buildProgram(makeContext: (globals: GlobalOptions) => CommandContext): Command {
  const program = new Command('tscompose')
    .description('Define and run multi-container applications: docker compose, in TypeScript, with Docker or a native runtime')
    .version(VERSION, '-v, --version')
    .showSuggestionAfterError(true)
    .enablePositionalOptions()
    .option('-f, --file <file>', 'compose configuration file (repeatable; - for stdin)', collect)
    .option('-p, --project-name <name>', 'project name')
    .option('--project-directory <dir>', 'alternate working directory (default: the directory of the first compose file)')
    .option('--env-file <file>', 'alternate environment file (repeatable)', collect)
    .option('--profile <profile>', 'profile to enable (repeatable)', collect)
    .option('--parallel <n>', 'maximum parallelism, -1 for unlimited')
    .addOption(new Option('--progress <mode>', 'progress output (env: COMPOSE_PROGRESS)').choices(['auto', 'tty', 'plain', 'json', 'quiet']))
    .addOption(new Option('--ansi <when>', 'control characters (env: COMPOSE_ANSI)').choices(['never', 'always', 'auto']))
    .option('--dry-run', 'show what would change, change nothing')
    .addOption(new Option('--runtime <runtime>', 'container runtime').choices(['docker', 'native', 'auto', 'swarm']).env('TSCOMPOSE_RUNTIME'));

  const context: ContextOf = (cmd) => makeContext(cmd.optsWithGlobals() as GlobalOptions);
  for (const add of COMMANDS) add(program as unknown as Command, context);
  return program;
}
