/** `volumes [SERVICE…]`: the project's volumes (docker compose cmd/compose/volumes.go). */
import { Option, type Command } from '@commander-js/extra-typings';
import { TsComposeError } from '../../errors.js';
import type { CommandContext, ContextOf } from '../context.js';

export function volumesCommand(program: Command, context: ContextOf) {
  return program
    .command('volumes')
    .description('List volumes')
    .option('-q, --quiet', 'only display volume names')
    .addOption(
      new Option('--format <format>', "format the output: 'table', 'json', 'raw' or a Go TEMPLATE ({{.Name}}\\t{{.Driver}})").default('table'),
    )
    .argument('[services...]')
    .action(async (services, opts, cmd) => runVolumes(context(cmd), services, opts));
}

export async function runVolumes(ctx: CommandContext, services: string[], opts: { quiet?: true; format?: string }): Promise<void> {
  const format = opts.format ?? 'table';
  // A bad template is refused before anything is read.
  if (format !== 'table' && format !== 'json' && format !== 'raw') {
    const { Template, templateText } = await import('../render/template.js');
    new Template(templateText(format));
  }
  const [{ projectVolumes }, { projectOrName, withSession }, { volumesText }] = await Promise.all([
    import('../../engine/volumes.js'),
    import('../session.js'),
    import('../render/volumes.js'),
  ]);
  const { name, loaded } = projectOrName(ctx, services);
  if (loaded) {
    const known = Object.keys(loaded.project.services);
    for (const s of services) if (!known.includes(s)) throw new TsComposeError('TSC_NO_SUCH_SERVICE', `no such service: ${s}`);
  }
  const volumes = await withSession(ctx, (s) => projectVolumes(s.engine, name, services));
  ctx.out.stdout.write(volumesText(volumes, { quiet: opts.quiet, format }));
}
