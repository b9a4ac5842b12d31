/**
 * Docker Engine errors of swarm calls → the Swarm port's typed errors (../contract/errors.ts). The Engine passes
 * SwarmKit's gRPC errors through with their status folded into HTTP codes, and not always the telling one:
 * 404 → NotFound; 409 (AlreadyExists) → Conflict; `update out of sequence` (an update on a stale version, HTTP 500)
 * → Conflict; `is in use by the following service` (a secret or config, HTTP 400) → Conflict; a network with active
 * endpoints (403) → Conflict; 503 `This node is not a swarm manager` → NotSwarmManagerError. Everything else
 * (sockets, aborts, the rest) goes through the runtime adapter's mapDockerError.
 */
import { TsComposeError } from '../../errors.js';
import { engineMessage, isAbortError, mapDockerError } from '../../runtime/docker/errors.js';
import { NotSwarmManagerError, swarmConflict, swarmNotFound, type SwarmObjectKind } from '../contract/errors.js';

interface ModemError {
  readonly statusCode?: number;
}

export function mapSwarmError(e: unknown, kind: SwarmObjectKind, ref: string): Error {
  if (e instanceof TsComposeError || isAbortError(e)) return e as Error;
  const status = (e as ModemError | undefined)?.statusCode;
  if (status === undefined) return mapDockerError(e, kind === 'network' ? 'network' : 'container', ref);
  const msg = engineMessage(e);
  if (status === 503 && /not a swarm manager|not part of a swarm/i.test(msg))
    return new NotSwarmManagerError(msg, /worker nodes/i.test(msg), { cause: e });
  if (status === 404) {
    // A create or update naming a missing network, secret or config says so; anything else is the object itself.
    const other = /^(?:rpc error: .*desc = )?(network|secret|config) (\S+) not found/i.exec(msg);
    if (other && other[1]!.toLowerCase() !== kind)
      return swarmNotFound(other[1]!.toLowerCase() as SwarmObjectKind, other[2]!.replace(/^'|'$/g, ''), { cause: e });
    return swarmNotFound(kind, ref, { cause: e });
  }
  if (status === 409 || status === 403) return swarmConflict(kind, ref, msg, { cause: e });
  if (/update out of sequence|is in use by|has active endpoints|already exists/i.test(msg)) return swarmConflict(kind, ref, msg, { cause: e });
  return new TsComposeError('TSC_DOCKER', `${kind} ${ref}: ${msg}`, { cause: e });
}
