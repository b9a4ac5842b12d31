/**
 * Start-up cost: dockerode loads gRPC + protobufjs (for BuildKit sessions, `dockerode/lib/session.js`) and
 * docker-modem loads ssh2 (for `ssh://` hosts, `docker-modem/lib/ssh.js`) when they are imported: ~170 ms of a
 * ~600 ms no-op `up`. tscompose talks to unix and tcp sockets with the classic builder, so neither is called on
 * the usual paths. This module, imported before dockerode, puts stand-ins for those two files in Node's CommonJS
 * cache; each loads the real module the first time it is called.
 */
import Module, { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function lazyFunction(request: string, from: NodeJS.Require): void {
  let file: string;
  try {
    file = from.resolve(request);
  } catch {
    return; // layout changed: load normally
  }
  const cache = require.cache;
  if (cache[file]) return;
  const stub = new Module(file);
  stub.filename = file;
  stub.loaded = true;
  stub.exports = function lazy(this: unknown, ...args: unknown[]): unknown {
    delete cache[file];
    const real = from(file) as (...a: unknown[]) => unknown;
    return real.apply(this, args);
  };
  cache[file] = stub;
}

const dockerodeRequire = createRequire(require.resolve('dockerode'));
lazyFunction('./session.js', dockerodeRequire);
lazyFunction('docker-modem/lib/ssh.js', dockerodeRequire);
