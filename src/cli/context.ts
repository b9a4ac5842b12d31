/** What a command's action gets: the global options, the CLI's output and the project load options they imply. */
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

export interface CommandContext {
  readonly globals: GlobalOptions;
  readonly out: Output;
  /** LoadOptions built from the global options (and the services named on the command line). */
  loadOptions(services?: readonly string[]): LoadOptions;
}

/** The context of a parsed command (its options merged with the global ones). */
export type ContextOf = (cmd: { optsWithGlobals(): object }) => CommandContext;
