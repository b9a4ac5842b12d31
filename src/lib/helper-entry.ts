/**
 * Where a helper process's entry is (the DNS resolver, the exit hook, the log keeper, the health monitor): its
 * one-file bundle (`NAME.cjs`, made by scripts/bundle.mjs next to the compiled `NAME.js`) when built, else the
 * module itself. Node starts a bundle in about half the time it takes to load the modules one by one (resolver
 * ~75 → ~45 ms, exit hook ~85 → ~50 ms, health monitor ~75 → ~40 ms, log keeper ~45 → ~28 ms here).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The entry `NAME` next to the module at `moduleUrl` (its import.meta.url). */
export function helperEntry(name: string, moduleUrl: string): string {
  const bundled = fileURLToPath(new URL(`./${name}.cjs`, moduleUrl));
  return existsSync(bundled) ? bundled : fileURLToPath(new URL(`./${name}.js`, moduleUrl));
}

/** Whether `arg` (a word of a command line) is a path to helper `NAME`'s entry, bundled or not. */
export function isHelperEntry(arg: string, name: string): boolean {
  return arg.endsWith(`/${name}.js`) || arg.endsWith(`/${name}.cjs`);
}
