/**
 * Entry of the detached DNS resolver process (see ./server.ts, started by ./control.ts):
 *
 *   node resolver.js <state dir>/dns
 */
import { runResolver } from './server.js';

const dir = process.argv[2];
if (dir) {
  runResolver(dir).catch((e: unknown) => {
    process.stderr.write(`tscompose dns resolver: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
