/**
 * Helpers of the loader's integration tests (load*.test.ts): every test writes its files into a fresh temporary
 * directory and passes the shell environment explicitly (never process.env). A test file using tmp() or project()
 * registers `afterAll(removeTmpDirs)`.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { TsComposeError } from '../../errors.js';
import { loadProjectSync, type LoadOptions } from '../load.js';
import type { LoadedProject } from '../types.js';

const dirs: string[] = [];

/** Removes the directories made by tmp() (and project()) so far. */
export function removeTmpDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** A fresh temp dir (real path, so that comparisons with resolved paths hold). */
export function tmp(): string {
  const d = realpathSync(mkdtempSync(join(tmpdir(), 'tsc-load-')));
  dirs.push(d);
  return d;
}

/** Writes `files` (relative path → content) under `dir`. */
export function write(dir: string, files: Record<string, string>): string {
  for (const [rel, content] of Object.entries(files)) {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
  return dir;
}

/** A temp dir holding `files`. */
export function project(files: Record<string, string>): string {
  return write(tmp(), files);
}

export function load(dir: string, opts: Omit<LoadOptions, 'cwd' | 'env'> & { env?: Record<string, string> } = {}): LoadedProject {
  const { env, ...rest } = opts;
  return loadProjectSync({ cwd: dir, env: { HOME: dir, ...env }, ...rest });
}

/** The error thrown by `fn` (fails the test when nothing is thrown). */
export function caught(fn: () => unknown): TsComposeError {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof TsComposeError)) throw new Error(`expected a TsComposeError, got ${String((e as Error)?.stack ?? e)}`);
    return e;
  }
  throw new Error('expected an error, nothing was thrown');
}

/** The service `name` of `l`, typed loosely (`any`) so that tests can assert on any field without narrowing. */
export const svc = (l: LoadedProject, name: string) => {
  const s = (l.project.services as Record<string, any>)[name];
  if (!s) throw new Error(`no service ${name}; have ${Object.keys(l.project.services).join(', ')}`);
  return s;
};
export const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
