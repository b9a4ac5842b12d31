/** `port`. */
import { UsageError } from '../../errors.js';
import { port } from '../../engine/query.js';
import type { CommandContext } from '../program.js';
import { projectOrName } from '../session.js';
import { withSession } from './common.js';

export async function runPort(ctx: CommandContext, service: string, privatePort: string, opts: { protocol?: string; index?: string }): Promise<void> {
  const p = Number(privatePort);
  if (!Number.isInteger(p)) throw new UsageError(`invalid port: ${privatePort}`);
  const { name } = projectOrName(ctx, [service]);
  const r = await withSession(ctx, (s) => port(s.engine, name, service, p, { protocol: opts.protocol, index: opts.index === undefined ? undefined : Number(opts.index) }));
  ctx.out.stdout.write(`${r}\n`);
}
