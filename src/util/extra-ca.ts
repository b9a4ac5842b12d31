/**
 * Extra CA certificates deferred by bin/tscompose.
 *
 * Node parses the file named by NODE_EXTRA_CA_CERTS while it starts, in every process (~40 ms on the machines we
 * measured). bin/tscompose therefore starts the CLI without it and bin/launch.cjs puts it back in the environment
 * (for the processes the CLI starts) with TSCOMPOSE_EXTRA_CA_CERTS_DEFERRED=1. Before this process makes a TLS
 * connection of its own, `applyDeferredExtraCa()` adds the file's certificates to the CAs that connections
 * without their own `ca` trust: Node's root certificates plus the file, exactly what NODE_EXTRA_CA_CERTS gives.
 */
import { readFileSync } from 'node:fs';
import tls from 'node:tls';

let applied = false;

export function applyDeferredExtraCa(env: NodeJS.ProcessEnv = process.env): void {
  if (applied || env['TSCOMPOSE_EXTRA_CA_CERTS_DEFERRED'] !== '1') return;
  applied = true;
  const file = env['NODE_EXTRA_CA_CERTS'];
  if (!file) return;
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (e) {
    // What Node prints when it cannot read the file at start-up; it goes on without the extra certificates.
    process.emitWarning(`Ignoring extra certs from \`${file}\`, load failed: ${(e as Error).message}`);
    return;
  }
  const ca = [...tls.rootCertificates, pem];
  const connect = tls.connect;
  // Both https.request and fetch (undici) open their TLS sockets through tls.connect(options…).
  const patched = function (this: unknown, ...args: unknown[]): tls.TLSSocket {
    const options = args.find((a): a is tls.ConnectionOptions => typeof a === 'object' && a !== null);
    if (options && options.ca === undefined && options.secureContext === undefined && options.pfx === undefined) {
      args[args.indexOf(options)] = { ...options, ca };
    }
    return (connect as (...a: unknown[]) => tls.TLSSocket).apply(this, args);
  };
  tls.connect = patched as typeof tls.connect;
}
