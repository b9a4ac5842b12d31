/**
 * Constructing the runtime for a command: `--runtime` / TSCOMPOSE_RUNTIME through `selectRuntime`. Only engine
 * commands import this module (commands are lazily imported), so `config` never loads dockerode. `--dry-run`
 * falls back to the in-memory FakeRuntime when no engine answers.
 */
import { UsageError } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { isRuntimeKind, selectRuntime } from '../runtime/select.js';

export async function createRuntime(kind: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<Runtime> {
  const k = kind ?? env.TSCOMPOSE_RUNTIME ?? 'auto';
  if (!isRuntimeKind(k)) throw new UsageError(`invalid runtime: ${k} (docker, native or auto)`);
  return selectRuntime(k, env);
}

/** For `--dry-run`: the real runtime when it answers (observe only), else an empty FakeRuntime. */
export async function createDryRunRuntime(kind: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<Runtime> {
  try {
    return await createRuntime(kind, env);
  } catch (e) {
    if ((e as { code?: string }).code === 'TSC_USAGE') throw e;
    const { FakeRuntime } = await import('../runtime/fake/fake-runtime.js');
    return new FakeRuntime();
  }
}
