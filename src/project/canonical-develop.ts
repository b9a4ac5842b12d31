/**
 * Canonical form of a service's `develop` section (compose-spec "Develop Specification", compose-go's
 * `types.DevelopConfig`): each `watch` trigger's `path` made absolute against the file's directory (compose-go's
 * path resolution does the same), `exec.command` split as `command:` is, `exec.environment` a mapping, `ignore` and
 * `include` string lists. `target` is a path in the container and stays as written. Values the schema already
 * refused never reach this code; a trigger that is not a mapping is left for the schema's error.
 */
import { absPath, tagged, toCommand, toMapping, toStringList, type CanonicalContext, type Obj } from './canonical-values.js';
import { isPlainObject, type PathSeg } from './yaml.js';

export function canonicalDevelop(value: unknown, ctx: CanonicalContext, path: PathSeg[]): unknown {
  if (!isPlainObject(value)) return value;
  const out: Obj = { ...value };
  if (Array.isArray(value.watch)) out.watch = value.watch.map((t, i) => (isPlainObject(t) ? canonicalTrigger(t, ctx, [...path, 'watch', i]) : t));
  return out;
}

function canonicalTrigger(t: Obj, ctx: CanonicalContext, path: PathSeg[]): Obj {
  const out: Obj = { ...t };
  if (typeof t.path === 'string') out.path = absPath(t.path, ctx);
  if (t.ignore !== undefined) out.ignore = toStringList(t.ignore);
  if (t.include !== undefined) out.include = toStringList(t.include);
  if (isPlainObject(t.exec)) {
    const exec: Obj = { ...t.exec };
    if (t.exec.command !== undefined) exec.command = tagged(t.exec.command, (v) => toCommand(v, ctx, [...path, 'exec', 'command']));
    if (t.exec.environment !== undefined) exec.environment = toMapping(t.exec.environment, null);
    out.exec = exec;
  }
  return out;
}
