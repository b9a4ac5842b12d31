/**
 * The ImageRegistry of ./images.ts on Docker Engine: `GET /distribution/{name}/json`, the call `docker stack deploy
 * --resolve-image always` makes, where the engine asks the registry (with its own insecure-registry and mirror
 * settings) which manifest a reference names, without pulling it. Given the dockerode instance of the swarm adapter
 * (../docker/swarm-docker.ts), so both talk to the same manager. A question the registry leaves unanswered for
 * 20 s fails (the caller then keeps the deployed pin or deploys by tag).
 */
import type Docker from 'dockerode';
import { engineMessage } from '../runtime/docker/errors.js';
import type { ImageRegistry } from './images.js';
import type { SwarmCallOptions } from './port.js';

const TIMEOUT_MS = 20_000;

export class EngineRegistry implements ImageRegistry {
  constructor(private readonly docker: Docker) {}

  digestOf(ref: string, options: SwarmCallOptions = {}): Promise<string> {
    const timeout = AbortSignal.timeout(TIMEOUT_MS);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    signal.throwIfAborted();
    return new Promise<string>((resolve, reject) => {
      this.docker.modem.dial(
        {
          // As dockerode and the docker CLI send it: the reference as it is (`host:port/a/b:tag`), slashes and all.
          path: `/distribution/${ref}/json?`,
          method: 'GET',
          options: {},
          statusCodes: { 200: true },
          abortSignal: signal,
        } as Parameters<Docker['modem']['dial']>[0],
        (err: unknown, data: unknown) => {
          if (err) {
            if (options.signal?.aborted) reject(options.signal.reason);
            else reject(new Error(timeout.aborted ? 'the registry did not answer in 20 s' : engineMessage(err), { cause: err }));
            return;
          }
          const digest = (data as { Descriptor?: { digest?: unknown } } | undefined)?.Descriptor?.digest;
          if (typeof digest === 'string') resolve(digest);
          else reject(new Error('the engine answered no digest'));
        },
      );
    });
  }
}
