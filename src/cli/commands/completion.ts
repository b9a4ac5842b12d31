/** `completion bash|zsh|fish`: a shell completion script for this program (../completion.ts builds it from the program). */
import { Argument, type Command } from '@commander-js/extra-typings';
import type { ContextOf } from '../context.js';

export function completionCommand(program: Command, context: ContextOf) {
  return program
    .command('completion')
    .description('Generate the autocompletion script for the specified shell')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish'] as const))
    .action(async (shell, _opts, cmd) => {
      const { completionScript } = await import('../completion.js');
      context(cmd).out.stdout.write(completionScript(program, shell));
    });
}
