/** Where the Docker Engine is: DOCKER_HOST (`unix://…`, `tcp://…`, with DOCKER_TLS_VERIFY/DOCKER_CERT_PATH) or the default socket. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import { applyDeferredExtraCa } from '../../util/extra-ca.js';
import { RuntimeUnavailableError } from '../errors.js';
import { DOCKER_HINT } from './errors.js';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

export type Env = Readonly<Record<string, string | undefined>>;

/** dockerode connection options for `env`. Throws RuntimeUnavailableError for a DOCKER_HOST it cannot use. */
export function dockerConnection(env: Env): Docker.DockerOptions {
  const host = env['DOCKER_HOST'];
  if (!host) return { socketPath: DEFAULT_DOCKER_SOCKET };
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) || DEFAULT_DOCKER_SOCKET };
  if (host.startsWith('/')) return { socketPath: host };
  if (host.startsWith('tcp://') || host.startsWith('http://') || host.startsWith('https://')) {
    const url = new URL(host.replace(/^tcp:/, 'http:'));
    const tls =
      host.startsWith('https://') || (env['DOCKER_TLS_VERIFY'] !== undefined && env['DOCKER_TLS_VERIFY'] !== '' && env['DOCKER_TLS_VERIFY'] !== '0');
    const opts: Docker.DockerOptions = { host: url.hostname, port: url.port || (tls ? '2376' : '2375'), protocol: tls ? 'https' : 'http' };
    const certPath = env['DOCKER_CERT_PATH'];
    if (tls) applyDeferredExtraCa(); // a CA from DOCKER_CERT_PATH below takes precedence, as with Node's own
    if (tls && certPath) {
      opts.ca = readFileSync(path.join(certPath, 'ca.pem'));
      opts.cert = readFileSync(path.join(certPath, 'cert.pem'));
      opts.key = readFileSync(path.join(certPath, 'key.pem'));
    }
    return opts;
  }
  throw new RuntimeUnavailableError('docker', `unsupported DOCKER_HOST ${host} (use unix:// or tcp://)`, { hint: DOCKER_HINT });
}
