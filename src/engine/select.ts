/**
 * Which services a command acts on: the ones named on its command line (all when none is) and, unless `noDeps`,
 * the services they depend on, transitively (compose's `--no-deps`).
 */
import { UsageError } from '../errors.js';
import { serviceDependencies } from '../project/dependencies.js';
import type { Project } from '../project/types.js';

export interface ServiceSelection {
  /** Services named on the command line; default: all. */
  readonly services?: readonly string[] | undefined;
  /** Do not bring up the dependencies of `services`. */
  readonly noDeps?: boolean | undefined;
}

/** The targeted services and the ones they (transitively) depend on, unless noDeps. */
export function selectServices(project: Project, options: ServiceSelection): { targets: Set<string>; selected: Set<string> } {
  const all = Object.keys(project.services);
  if (!options.services || options.services.length === 0) return { targets: new Set(all), selected: new Set(all) };
  for (const s of options.services) if (!project.services[s]) throw new UsageError(`no such service: ${s}`);
  const targets = new Set(options.services);
  const selected = new Set(targets);
  if (!options.noDeps) {
    const stack = [...targets];
    while (stack.length > 0) {
      const s = stack.pop()!;
      for (const dep of serviceDependencies(project.services[s]!).keys()) {
        if (project.services[dep] && !selected.has(dep)) {
          selected.add(dep);
          stack.push(dep);
        }
      }
    }
  }
  return { targets, selected };
}
