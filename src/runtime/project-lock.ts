/**
 * Where a backend keeps its per-project locks, and the lock itself (src/lib/fs/lock.ts: a directory with its
 * holder's pid, taken over when the holder is gone). The wait is long: a command that changes a project may build
 * images for minutes, and the next one on the same project should follow it, not fail; a dead holder is noticed at
 * once, and Ctrl-C stops the wait.
 */
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { withLock } from '../lib/fs/lock.js';

/** Up to an hour behind a live holder. */
export const PROJECT_LOCK_TIMEOUT_MS = 60 * 60_000;

/** The lock of `project` under `dir` (the name hashed: any project name is a safe file name then). */
export function projectLockPath(dir: string, project: string): string {
  return path.join(dir, `project-${createHash('sha256').update(project).digest('hex').slice(0, 32)}`);
}

/**
 * Where locks of projects on the Docker engine at `endpoint` live on this machine: a directory of the user's own
 * (XDG_RUNTIME_DIR, else /run/tscompose for root, else the temp directory), one per endpoint.
 */
export function dockerLockDir(endpoint: string, env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env['XDG_RUNTIME_DIR'] || (process.getuid?.() === 0 ? '/run/tscompose' : path.join(tmpdir(), `tscompose-${process.getuid?.() ?? 'user'}`));
  return path.join(base, 'locks', `docker-${createHash('sha256').update(endpoint).digest('hex').slice(0, 16)}`);
}

/** The directory of the CLI's own files about `project` under `dir` (see RuntimeBackend.projectLocalDir). */
export function projectLocalPath(dir: string, project: string): string {
  return path.join(dir, `files-${createHash('sha256').update(project).digest('hex').slice(0, 32)}`);
}

export function withProjectLockIn<T>(dir: string, project: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  return withLock(projectLockPath(dir, project), fn, { timeoutMs: PROJECT_LOCK_TIMEOUT_MS, signal });
}
