/**
 * Constructing the runtime for a command: `--runtime` / TSCOMPOSE_RUNTIME through `selectRuntime`. Only session.ts
 * imports this module (and commands load it inside their actions), so `config` never loads dockerode. `--dry-run`
 * falls back to an empty in-memory runtime when no engine answers.
 */
import { UsageError } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { emptyRuntime, isRuntimeKind, selectRuntime } from '../runtime/select.js';
import { SWARM_COMMANDS } from './swarm/is-swarm.js';

export async function createRuntime(kind: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<Runtime> {
  const k = kind ?? env.TSCOMPOSE_RUNTIME ?? 'auto';
  if (k === 'swarm') throw new UsageError(`this command is not available with --runtime swarm (${SWARM_COMMANDS} are)`);
  if (!isRuntimeKind(k)) throw new UsageError(`invalid runtime: ${k} (docker, native, auto or swarm)`);
  return selectRuntime(k, env);
}

/** For `--dry-run`: the real runtime when it answers (observe only), else an empty in-memory runtime. */
export async function createDryRunRuntime(kind: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<Runtime> {
  try {
    return await createRuntime(kind, env);
  } catch (e) {
    if ((e as { code?: string }).code === 'TSC_USAGE') throw e;
    return emptyRuntime();
  }
}
