/** `push`. */
import { push } from '../../engine/images.js';
import type { CommandContext } from '../program.js';
import { loadProject } from '../session.js';
import { withSession } from './common.js';

export async function runPush(ctx: CommandContext, services: string[], opts: { ignorePushFailures?: true; includeDeps?: true; quiet?: true }): Promise<void> {
  const { project } = loadProject(ctx, services);
  await withSession(ctx, (s) => push(s.engine, project, { services, ignorePushFailures: opts.ignorePushFailures, includeDeps: opts.includeDeps, quiet: opts.quiet }));
}
