/**
 * `viz`: the project's dependency graph (docker compose cmd/compose/viz.go: `--image`, `--networks`, `--ports`,
 * `--indentation-size`, `--spaces`; "viz command is EXPERIMENTAL" on stderr, as compose). `--format dot|mermaid` is
 * ours (DOT by default, as compose).
 */
import { Option, type Command } from '@commander-js/extra-typings';
import { UsageError } from '../../errors.js';
import type { CommandContext, ContextOf } from '../context.js';

export interface VizCliOptions {
  image?: true;
  networks?: true;
  ports?: true;
  indentationSize?: string;
  spaces?: true;
  format?: string;
}

export function vizCommand(program: Command, context: ContextOf) {
  return program
    .command('viz')
    .description('EXPERIMENTAL - Generate a graphviz graph from your compose file')
    .option('--image', "include service's image name in output graph")
    .option('--networks', "include service's attached networks in output graph")
    .option('--ports', "include service's exposed ports in output graph")
    .option('--indentation-size <n>', 'number of tabs or spaces to use for indentation', '1')
    .option('--spaces', "indent with spaces ' ' instead of tabs")
    .addOption(new Option('--format <format>', 'graph language').choices(['dot', 'mermaid']).default('dot'))
    .action(async (opts, cmd) => runViz(context(cmd), opts));
}

/** compose's preferredIndentationStr. */
export function indentation(size: string | undefined, spaces: boolean): string {
  const n = Number(size ?? '1');
  if (!Number.isInteger(n)) throw new UsageError(`invalid --indentation-size value: ${size}`);
  if (n < 0) throw new UsageError(`invalid indentation size: ${n}`);
  return (spaces ? ' ' : '\t').repeat(n);
}

export async function runViz(ctx: CommandContext, opts: VizCliOptions): Promise<void> {
  const indent = indentation(opts.indentationSize, opts.spaces === true);
  const [{ loadProject }, { vizText }] = await Promise.all([import('../session.js'), import('../render/viz.js')]);
  const { project } = loadProject(ctx);
  ctx.out.stderr.write('viz command is EXPERIMENTAL\n');
  const format = opts.format === 'mermaid' ? 'mermaid' : 'dot';
  const text = vizText(project, { format, image: opts.image, networks: opts.networks, ports: opts.ports, indentation: indent });
  // compose prints the graph with Println: DOT ends with a blank line
  ctx.out.stdout.write(format === 'dot' ? `${text}\n` : text);
}
