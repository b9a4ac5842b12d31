/** `port`. */
import { Option, type Command } from '@commander-js/extra-typings';
import { UsageError } from '../../errors.js';
import type { CommandContext, ContextOf } from '../context.js';

export function portCommand(program: Command, context: ContextOf) {
  return program
    .command('port')
    .description('Print the public port for a port binding')
    .option('--index <n>', 'index of the container if service has multiple replicas')
    .addOption(new Option('--protocol <proto>', 'tcp or udp').choices(['tcp', 'udp']).default('tcp'))
    .argument('<service>')
    .argument('<private_port>')
    .action(async (service, privatePort, opts, cmd) => runPort(context(cmd), service, privatePort, opts));
}

export async function runPort(ctx: CommandContext, service: string, privatePort: string, opts: { protocol?: string; index?: string }): Promise<void> {
  const p = Number(privatePort);
  if (!Number.isInteger(p)) throw new UsageError(`invalid port: ${privatePort}`);
  const [{ port }, { projectOrName, withSession }] = await Promise.all([import('../../engine/query.js'), import('../session.js')]);
  const { name } = projectOrName(ctx, [service]);
  const r = await withSession(ctx, (s) =>
    port(s.engine, name, service, p, { protocol: opts.protocol, index: opts.index === undefined ? undefined : Number(opts.index) }),
  );
  ctx.out.stdout.write(`${r}\n`);
}
