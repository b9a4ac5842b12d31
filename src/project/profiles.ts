/**
 * Profiles: a service without `profiles` is always enabled; one with profiles only when one of them is
 * active (`--profile`, `COMPOSE_PROFILES`, `*` for all) or when it is named on the command line, which
 * enables its profiles too.
 */
import type { Project, ServiceConfig } from './types.js';

export function applyProfiles(
  project: Project,
  profiles: readonly string[],
  explicit: readonly string[],
): { project: Project; disabled: Record<string, ServiceConfig> } {
  const active = new Set(profiles);
  for (const name of explicit) for (const p of project.services[name]?.profiles ?? []) active.add(p);
  const enabled: Record<string, ServiceConfig> = {};
  const disabled: Record<string, ServiceConfig> = {};
  for (const [name, svc] of Object.entries(project.services)) {
    const own = svc.profiles ?? [];
    if (own.length === 0 || active.has('*') || own.some((p) => active.has(p)) || explicit.includes(name)) enabled[name] = svc;
    else disabled[name] = svc;
  }
  return { project: { ...project, services: enabled }, disabled };
}

/** Every profile named by a service, sorted (for `config --profiles`). */
export function allProfiles(services: Readonly<Record<string, ServiceConfig>>): string[] {
  return [...new Set(Object.values(services).flatMap((s) => s.profiles ?? []))].sort();
}
