/**
 * Runtime contract cases for TTYs (compose `tty: true`, `run`/`exec` with a terminal), declared by ./suite.ts inside
 * its describe (its containers, clean-up and capabilities): a TTY container's process has a terminal
 * (`/dev/pts/N`), its output is one stream with the terminal's line ends (attach and logs); what an attach forwards
 * reaches the terminal and `resize` sets its size; an exec with `tty` has a terminal of its own, `TERM=xterm`, its
 * exit code, its input and its size.
 */
import { expect, test } from '@jest/globals';
import { PassThrough, type Readable } from 'node:stream';
import type { ContainerSpec, LogLine, Runtime } from '../runtime.js';
import type { ContractCapabilities } from './capabilities.js';

/** What the suite gives these cases; read when a case runs (the target is built in the suite's beforeAll). */
export interface TtyScope {
  runtime(): Runtime;
  capabilities(): ContractCapabilities;
  /** Creates a labelled busybox container (a sleeper unless `spec.command`); its name. */
  create(suffix: string, spec?: Partial<ContainerSpec>): Promise<string>;
  /** Creates and starts one. */
  run(suffix: string, spec?: Partial<ContainerSpec>): Promise<string>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Everything a stream gives, as text, and a wait for a text in it. */
function reader(stream: Readable): { text(): string; until(what: RegExp, timeoutMs?: number): Promise<void>; ended: Promise<void> } {
  let out = '';
  stream.on('data', (d: Buffer) => (out += d.toString()));
  const ended = new Promise<void>((resolve) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
  });
  return {
    text: () => out,
    ended,
    until: async (what, timeoutMs = 20_000) => {
      const end = Date.now() + timeoutMs;
      while (!what.test(out)) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${String(what)} in ${JSON.stringify(out)}`);
        await sleep(50);
      }
    },
  };
}

/** A line as the terminal ends it (`\r\n`); a runtime may keep the `\r` of a log line or drop it. */
const bare = (l: LogLine): string => l.line.replace(/\r$/, '');

export function ttyCases(scope: TtyScope): void {
  test('a TTY container: its process has a terminal; attach and logs give one stream with the terminal line ends', async () => {
    const rt = scope.runtime();
    const c = await scope.create('tty-out', { tty: true, command: ['sh', '-c', 'tty; echo out; echo err >&2'] });
    const session = await rt.attachContainer(c);
    expect(session).toMatchObject({ tty: true, stdin: false });
    const out = reader(session.stdout);
    const err = reader(session.stderr);
    await rt.startContainer(c);
    if (!scope.capabilities().processes) {
      session.close(); // the fake runs nothing: its container never ends on its own
      return;
    }
    await Promise.all([out.ended, err.ended]);
    expect(await rt.waitContainer(c)).toBe(0);
    expect(out.text()).toMatch(/^\/dev\/pts\/\d+\r\nout\r\nerr\r\n$/);
    expect(err.text()).toBe('');
    const lines: LogLine[] = [];
    for await (const l of rt.containerLogs(c)) lines.push(l);
    expect(lines.map((l) => l.stream)).toEqual(['stdout', 'stdout', 'stdout']);
    expect(lines.map(bare)).toEqual([expect.stringMatching(/^\/dev\/pts\/\d+$/), 'out', 'err']);
  });

  test('attach to a TTY container with an open stdin: the input reaches its terminal, resize sets its size', async () => {
    const rt = scope.runtime();
    const c = await scope.run('tty-in', {
      tty: true,
      openStdin: true,
      command: ['sh', '-c', 'while read l; do echo "got $l"; stty size; done'],
    });
    const input = new PassThrough();
    const session = await rt.attachContainer(c, { stdin: input });
    expect(session).toMatchObject({ tty: true, stdin: true });
    const out = reader(session.stdout);
    await session.resize({ rows: 31, columns: 97 });
    if (!scope.capabilities().processes) {
      session.close();
      input.destroy();
      return;
    }
    // A resize reaches the terminal a moment later (conmon, the engine): ask until it is there.
    for (let i = 0; i < 40 && !/31 97/.test(out.text()); i++) {
      input.write(`line${i}\n`);
      await sleep(250);
    }
    await out.until(/got line\d+\r\n31 97\r\n/);
    // The terminal echoes what it reads, as a terminal does.
    expect(out.text()).toContain('line0\r\ngot line0\r\n');
    session.close();
    await out.ended;
    input.destroy();
    expect((await rt.inspectContainer(c)).status).toBe('running');
  });

  test('exec with a TTY: a terminal of its own, TERM=xterm, one stream, its exit code, its input and its size', async () => {
    const rt = scope.runtime();
    const c = await scope.run('tty-exec');
    const plain = await rt.execStream(c, { cmd: ['sh', '-c', 'tty; echo "$TERM"; echo err >&2; exit 3'], tty: true });
    const po = reader(plain.stdout);
    const pe = reader(plain.stderr);
    const code = await plain.wait();
    await Promise.all([po.ended, pe.ended]);
    if (!scope.capabilities().processes) return;
    expect(code).toBe(3);
    expect(po.text()).toMatch(/^\/dev\/pts\/\d+\r\nxterm\r\nerr\r\n$/);
    expect(pe.text()).toBe('');

    // The input stays open until the process ends (a TTY's input ending may end the output on Docker).
    const input = new PassThrough();
    const typed = await rt.execStream(c, { cmd: ['sh', '-c', 'read l; stty size; echo "got $l"'], tty: true, stdin: input });
    const to = reader(typed.stdout);
    await typed.resize?.({ rows: 22, columns: 77 });
    await sleep(500);
    input.write('hello\n');
    expect(await typed.wait()).toBe(0);
    await to.ended;
    input.destroy();
    expect(to.text()).toContain('got hello\r\n');
    if (typed.resize) expect(to.text()).toContain('22 77\r\n');
  });
}
