/** `build`. */
import { build } from '../../engine/images.js';
import type { CommandContext } from '../program.js';
import { loadProject } from '../session.js';
import { withSession } from './common.js';

export async function runBuild(ctx: CommandContext, services: string[], opts: { noCache?: true; pull?: true; buildArg?: string[]; withDependencies?: true; quiet?: true }): Promise<void> {
  const { project } = loadProject(ctx, services);
  const args: Record<string, string> = {};
  for (const a of opts.buildArg ?? []) {
    const i = a.indexOf('=');
    if (i < 0) {
      const v = process.env[a];
      if (v !== undefined) args[a] = v;
    } else args[a.slice(0, i)] = a.slice(i + 1);
  }
  await withSession(ctx, (s) => build(s.engine, project, { services, noCache: opts.noCache, pull: opts.pull, args: Object.keys(args).length > 0 ? args : undefined, withDeps: opts.withDependencies }));
}
