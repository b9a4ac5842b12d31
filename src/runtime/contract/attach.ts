/**
 * Runtime contract cases for `attachContainer` without a TTY (with one: ./tty.ts), declared by ./suite.ts inside its
 * describe: attached before the start, stdin is forwarded and (stdinOnce) closed at its end and the output comes as
 * written; attached to a running container, its stdin stays open after the input ends and close() detaches.
 */
import { expect, test } from '@jest/globals';
import { PassThrough, Readable } from 'node:stream';
import { sleep, until, type ContractScope } from './scope.js';

async function text(stream: Readable): Promise<string> {
  let out = '';
  for await (const d of stream) out += (d as Buffer).toString();
  return out;
}

export function attachCases(scope: ContractScope): void {
  const { create, run } = scope;
  test('attachContainer before the start: stdin forwarded and, with stdinOnce, closed at its end; output as written', async () => {
    const rt = scope.runtime();
    const script = 'read l; echo "got $l"; printf partial; cat >/dev/null; echo " eof"; echo err >&2';
    const c = await create('attach-once', { command: ['sh', '-c', script], openStdin: true, stdinOnce: true });
    const session = await rt.attachContainer(c, { stdin: Readable.from([Buffer.from('hello\n'), Buffer.from('more\n')]) });
    expect(session).toMatchObject({ tty: false, stdin: true });
    await rt.startContainer(c);
    const [out, err] = await Promise.all([text(session.stdout), text(session.stderr)]);
    expect(await rt.waitContainer(c)).toBe(0);
    if (!scope.capabilities().processes) return;
    expect(out).toBe('got hello\npartial eof\n');
    expect(err).toBe('err\n');
  });

  test('attachContainer on a running container: its stdin (without stdinOnce) stays open after the input ends; close() detaches', async () => {
    const rt = scope.runtime();
    const c = await run('attach-open', { command: ['sh', '-c', 'while read l; do echo "got $l"; done; echo eof; exit 3'], openStdin: true });
    const input = new PassThrough();
    const session = await rt.attachContainer(c, { stdin: input });
    expect(session).toMatchObject({ tty: false, stdin: true });
    let out = '';
    session.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const ended = new Promise<void>((resolve) => session.stdout.on('end', resolve));
    input.write('one\n');
    if (scope.capabilities().processes) await until('the line reached the container', () => Promise.resolve(out.includes('got one')));
    // Without stdinOnce the end of the input leaves the container's stdin open (Docker's engine ends the output then).
    input.end();
    await sleep(300);
    if (scope.capabilities().processes) expect((await rt.inspectContainer(c)).status).toBe('running');
    session.close();
    await ended;
    expect(out).not.toContain('eof');
    const plain = await run('attach-plain');
    const none = await rt.attachContainer(plain, { stdin: Readable.from([Buffer.from('x\n')]) });
    expect(none.stdin).toBe(false);
    none.close();
  });
}
