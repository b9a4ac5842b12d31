/**
 * Constructing the runtime for a command: `--runtime` / TSCOMPOSE_RUNTIME through `selectRuntime`. Only session.ts
 * imports this module (and commands load it inside their actions), so `config` never loads dockerode. `--dry-run`
 * falls back to an empty in-memory runtime when no engine answers, with a warning.
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

/**
 * For `--dry-run`: the real runtime when it answers (observe only), else an empty in-memory runtime — and then
 * `warn` says so (the plan below assumes nothing exists, which may not be true on an engine that is down).
 */
export async function createDryRunRuntime(
  kind: string | undefined,
  warn: (message: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Runtime> {
  try {
    return await createRuntime(kind, env);
  } catch (e) {
    if ((e as { code?: string }).code === 'TSC_USAGE') throw e;
    const why = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    warn(`--dry-run: no container engine answered (${why}); the plan assumes no container, network or volume exists yet`);
    return emptyRuntime();
  }
}
