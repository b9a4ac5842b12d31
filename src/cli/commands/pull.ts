/** `pull`. */
import { pull } from '../../engine/images.js';
import { UsageError } from '../../errors.js';
import type { CommandContext } from '../program.js';
import { loadProject } from '../session.js';
import { withSession } from './common.js';

export async function runPull(ctx: CommandContext, services: string[], opts: { ignoreBuildable?: true; ignorePullFailures?: true; includeDeps?: true; policy?: string; quiet?: true }): Promise<void> {
  if (opts.policy !== undefined && opts.policy !== 'missing' && opts.policy !== 'always') throw new UsageError(`invalid --policy: ${opts.policy} (missing or always)`);
  const { project } = loadProject(ctx, services);
  await withSession(ctx, (s) =>
    pull(s.engine, project, { services, ignoreBuildable: opts.ignoreBuildable, ignorePullFailures: opts.ignorePullFailures, includeDeps: opts.includeDeps, policy: opts.policy as 'missing' | 'always' | undefined, quiet: opts.quiet }),
  );
}
