/**
 * The typed errors every adapter of the Swarm port (../port.ts) throws, so the stack engine never looks at HTTP
 * status codes: a missing service, task, network, secret, config or node → NotFoundError; a name in use, an update
 * on a stale version, a secret or config still referenced by a service, a network with endpoints → ConflictError
 * (both from src/runtime/errors.ts, so `isNotFound`/`isConflict` work for either backend); an endpoint that is not
 * a swarm manager → NotSwarmManagerError with a hint (`docker swarm init`). The Docker adapter maps the Engine's
 * answers onto these (./docker/errors.ts), the fake throws them directly.
 */
import { TsComposeError, type TsComposeErrorOptions } from '../../errors.js';
import { ConflictError, NotFoundError, type RuntimeObjectKind } from '../../runtime/errors.js';

export type SwarmObjectKind = 'service' | 'task' | 'network' | 'secret' | 'config' | 'node';

// RuntimeObjectKind (src/runtime/errors.ts) names only the runtime port's objects; the swarm's are carried in the
// same field (the message reads `no such service: web`) until that type names them too.
const asKind = (kind: SwarmObjectKind): RuntimeObjectKind => kind as RuntimeObjectKind;

/** `no such <kind>: <ref>` (TSC_NOT_FOUND). */
export function swarmNotFound(kind: SwarmObjectKind, ref: string, options: TsComposeErrorOptions = {}): NotFoundError {
  return new NotFoundError(asKind(kind), ref, options);
}

/** `<kind> <ref>: <detail>` (TSC_CONFLICT). */
export function swarmConflict(kind: SwarmObjectKind, ref: string, detail: string, options: TsComposeErrorOptions = {}): ConflictError {
  return new ConflictError(asKind(kind), ref, detail, options);
}

export const SWARM_INIT_HINT = 'make this engine a single-node swarm with `docker swarm init`, or point DOCKER_HOST at a swarm manager';
export const SWARM_WORKER_HINT = 'point DOCKER_HOST at a manager node of the swarm (`docker node ls` works there), or `docker node promote` this one';

/**
 * The endpoint cannot serve the swarm's objects: it is in no swarm, or only a worker (`TSC_SWARM_NOT_MANAGER`).
 * `worker` says which; the hint says what to do.
 */
export class NotSwarmManagerError extends TsComposeError {
  readonly worker: boolean;
  constructor(detail: string, worker: boolean, options: Omit<TsComposeErrorOptions, 'hint'> = {}) {
    super('TSC_SWARM_NOT_MANAGER', `not a swarm manager: ${detail}`, { ...options, hint: worker ? SWARM_WORKER_HINT : SWARM_INIT_HINT });
    this.worker = worker;
  }
}
