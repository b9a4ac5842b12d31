/**
 * Runtime contract cases for `execStream` with stdin and no TTY (`tscompose exec -T svc cat < file`), declared by
 * ./suite.ts inside its describe (its containers, clean-up and capabilities): the input reaches the process, its end
 * closes the process's stdin (so `cat` ends), a large input arrives whole, an empty one ends the read at once, exit
 * codes pass through, and a process that ends without reading leaves the rest of the input unread (not hanging).
 */
import { expect, test } from '@jest/globals';
import { PassThrough, Readable } from 'node:stream';
import type { ContainerSpec, ExecSession, Runtime } from '../runtime.js';
import type { ContractCapabilities } from './capabilities.js';

/** What the suite gives these cases; read when a case runs (the target is built in the suite's beforeAll). */
export interface ExecStdinScope {
  runtime(): Runtime;
  capabilities(): ContractCapabilities;
  /** Creates and starts a labelled busybox container (a sleeper unless `spec.command`); its name. */
  run(suffix: string, spec?: Partial<ContainerSpec>): Promise<string>;
}

async function finish(session: ExecSession): Promise<{ out: string; err: string; code: number }> {
  const read = async (r: Readable): Promise<string> => {
    const parts: Buffer[] = [];
    for await (const d of r) parts.push(d as Buffer);
    return Buffer.concat(parts).toString('utf8');
  };
  const [out, err] = await Promise.all([read(session.stdout), read(session.stderr)]);
  return { out, err, code: await session.wait() };
}

/** `lines` lines of 64 bytes (63 characters and a newline), in chunks as a pipe would give them. */
function lines(count: number): { stream: Readable; bytes: number } {
  const line = `${'x'.repeat(62)}.\n`;
  const chunk = Buffer.from(line.repeat(256));
  const chunks = Array.from({ length: Math.ceil(count / 256) }, () => chunk);
  return { stream: Readable.from(chunks), bytes: chunks.length * chunk.length };
}

export function execStdinCases(scope: ExecStdinScope): void {
  test('exec with stdin, no TTY: the input reaches the process, its end closes its stdin; 1 MiB whole; exit codes', async () => {
    const rt = scope.runtime();
    const processes = scope.capabilities().processes;
    const c = await scope.run('exec-stdin');
    // The fake runs nothing (its exec answers 127 to these commands): it only shows the sessions end.
    const cat = await finish(await rt.execStream(c, { cmd: ['cat'], stdin: Readable.from([Buffer.from('hello\n'), Buffer.from('more\n')]) }));
    if (processes) expect(cat).toEqual({ out: 'hello\nmore\n', err: '', code: 0 });

    const big = lines(16_384);
    expect(big.bytes).toBe(1024 * 1024);
    const wc = await finish(await rt.execStream(c, { cmd: ['sh', '-c', 'wc -c'], stdin: big.stream }));
    if (processes) expect(wc).toMatchObject({ out: expect.stringMatching(new RegExp(`^\\s*${big.bytes}\\n$`)), code: 0 });

    // An input already at its end (as /dev/null): the process reads EOF at once.
    const empty = await finish(await rt.execStream(c, { cmd: ['sh', '-c', 'cat; echo done'], stdin: Readable.from([]) }));
    if (processes) expect(empty).toEqual({ out: 'done\n', err: '', code: 0 });

    if (!processes) return;
    const coded = await finish(
      await rt.execStream(c, { cmd: ['sh', '-c', 'read l; echo "got $l" >&2; exit 7'], stdin: Readable.from([Buffer.from('x\n')]) }),
    );
    expect(coded).toEqual({ out: '', err: 'got x\n', code: 7 });
  });

  test('exec with stdin: a process that ends without reading it returns, and the input is no longer read', async () => {
    const rt = scope.runtime();
    const c = await scope.run('exec-stdin-unread');
    const input = new PassThrough(); // never ends: a terminal nobody types into, a pipe left open
    input.write('unread\n');
    const session = await rt.execStream(c, { cmd: ['sh', '-c', 'exit 3'], stdin: input });
    expect((await finish(session)).code).toBe(3);
    expect(input.listenerCount('data')).toBe(0);
    input.destroy();
  });
}
