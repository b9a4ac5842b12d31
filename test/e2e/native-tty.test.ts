/**
 * End-to-end, terminals on the native runtime (issue 18, "native TTY"), under a real terminal (util-linux `script`,
 * ./terminal.ts): `run SERVICE sh` gets a TTY (`tty` says /dev/pts/N) of the terminal's size, follows a resize
 * (SIGWINCH) and exits with the shell's code; `run -T` has none; `attach` to a `tty: true` + `stdin_open` service
 * types into its shell and ctrl-p ctrl-q (or the `--detach-keys` given) detach, leaving it running; a `tty: true` service's logs are its terminal
 * output; `exec` has a TTY of the terminal's size with TERM=xterm and its exit code, `exec -T` none. Runs under
 * `flock -s /tmp/tscompose-native.lock` in CI, as the other native suites.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bin, ok } from './helpers.js';
import { NativeSuite, nativeDescribe } from './native-harness.js';
import { hasScript, underTerminal } from './terminal.js';

const COMPOSE = `services:
  svc:
    image: busybox:latest
  term:
    image: busybox:latest
    tty: true
    stdin_open: true
  logger:
    image: busybox:latest
    tty: true
    command: ["sh", "-c", "tty; echo hello; printf 'no newline'"]
`;

(nativeDescribe && hasScript ? describe : describe.skip)('terminals on the native runtime', () => {
  const suite = new NativeSuite();
  afterAll(() => suite.cleanup());
  const cli = (name: string): string => `${bin} -p ${name} --progress quiet`;

  /** No exec directory, relay or conmon of an exec left in the suite's run directory. */
  const noExecLeft = (): void => {
    const run = join(suite.stateDir, 'run');
    const left = readdirSync(run, { recursive: true }).map(String);
    expect(left.filter((f) => /exec-[0-9a-f]{12}/.test(f))).toEqual([]);
  };

  test('run svc sh: a TTY of the terminal size that follows a resize; the shell exit code; run -T has no TTY', async () => {
    const p = suite.project({ 'compose.yaml': COMPOSE });
    const trigger = join(p.dir, 'resize-now');
    // The resize comes from inside the terminal (script's pty): stty on it makes the kernel send SIGWINCH to the CLI.
    const resizer = `(while [ ! -e ${trigger} ]; do sleep 0.1; done; stty cols 120 rows 40 </dev/tty) &`;
    const cmd = `stty cols 91 rows 33; ${resizer} ${cli(p.name)} run svc sh`;
    const { child, output, exited, until } = underTerminal(cmd, p.dir, suite.env);
    await until('# ');
    child.stdin.write('tty; stty size; echo sum-$((40+2))\r');
    await until('sum-42');
    expect(output()).toMatch(/\/dev\/pts\/\d+\r*\n/);
    expect(output()).toContain('33 91');
    writeFileSync(trigger, '');
    await new Promise((r) => setTimeout(r, 1500));
    child.stdin.write('stty size; echo two-$((1+1))\r');
    await until('two-2');
    expect(output()).toContain('40 120');
    child.stdin.write('exit 3\r');
    expect(await exited).toBe(3);

    const plain = underTerminal(`${cli(p.name)} run --rm -T svc sh -c 'tty; echo done'`, p.dir, suite.env);
    await plain.until('done');
    expect(await plain.exited).toBe(0);
    expect(plain.output()).toContain('not a tty');
    ok(suite.ts(p, 'down', '-t', '0'));
  }, 180_000);

  test('attach to a tty + stdin_open service: typing reaches its shell, ctrl-p ctrl-q detaches and leaves it running', async () => {
    const p = suite.project({ 'compose.yaml': COMPOSE });
    ok(suite.ts(p, 'up', '-d', 'term'));
    const { child, exited, until } = underTerminal(`stty cols 80 rows 24; ${cli(p.name)} attach term`, p.dir, suite.env);
    await new Promise((r) => setTimeout(r, 1500)); // attached
    child.stdin.write('echo one-$((0+1)); stty size\r');
    await until('one-1');
    await until('24 80');
    child.stdin.write(Buffer.from([0x10, 0x11]));
    expect(await exited).toBe(0);
    expect(ok(suite.ts(p, 'ps', '--format', '{{.Service}} {{.State}}'))).toBe('term running\n');

    // Other detach keys: ctrl-p ctrl-q reach the shell, the given keys detach.
    const other = underTerminal(`${cli(p.name)} attach --detach-keys ctrl-x,x term`, p.dir, suite.env);
    await new Promise((r) => setTimeout(r, 1500));
    // (ctrl-p recalls the last line in the shell's line editor: ctrl-u clears it again)
    other.child.stdin.write(Buffer.from([0x10, 0x11, 0x15]));
    other.child.stdin.write('echo two-$((1+1))\r');
    await other.until('two-2');
    other.child.stdin.write(Buffer.from([0x18, 0x78]));
    expect(await other.exited).toBe(0);
    expect(ok(suite.ts(p, 'ps', '--format', '{{.Service}} {{.State}}'))).toBe('term running\n');
    ok(suite.ts(p, 'down', '-t', '0'));
  }, 180_000);

  test('a tty service: its logs are its terminal output', async () => {
    const p = suite.project({ 'compose.yaml': COMPOSE });
    const hostNull = statSync('/dev/null');
    ok(suite.ts(p, 'up', '-d', 'logger'));
    // The host's /dev/null is none of the runtime's streams: crun 1.8 chowned it (to the container's root) at a tty
    // container's start, which changed its ctime even where the owner stayed root.
    expect(statSync('/dev/null').ctimeMs).toBe(hostNull.ctimeMs);
    for (let i = 0; i < 100 && !ok(suite.ts(p, 'ps', '-a', '--format', '{{.State}}')).includes('exited'); i++)
      await new Promise((r) => setTimeout(r, 100));
    const logs = ok(suite.ts(p, 'logs', '--no-log-prefix', 'logger'));
    expect(logs).toMatch(/^\/dev\/pts\/\d+\r?\nhello\r?\nno newline\n$/);
    ok(suite.ts(p, 'down', '-t', '0'));
  }, 180_000);

  test('exec: a TTY of the terminal size with TERM=xterm and the exit code; exec -T has none; nothing left behind', async () => {
    const p = suite.project({ 'compose.yaml': COMPOSE });
    ok(suite.ts(p, 'up', '-d', 'term'));
    const { child, output, exited, until } = underTerminal(`stty cols 70 rows 20; ${cli(p.name)} exec term sh`, p.dir, suite.env);
    await until('# ');
    child.stdin.write('tty; stty size; echo "term=$TERM"\r');
    await until('term=xterm');
    expect(output()).toMatch(/\/dev\/pts\/\d+\r*\n/);
    expect(output()).toContain('20 70');
    child.stdin.write('exit 4\r');
    expect(await exited).toBe(4);

    const plain = underTerminal(`${cli(p.name)} exec -T term sh -c 'tty; echo done'`, p.dir, suite.env);
    await plain.until('done');
    expect(await plain.exited).toBe(0);
    expect(plain.output()).toContain('not a tty');
    noExecLeft();
    ok(suite.ts(p, 'down', '-t', '0'));
  }, 180_000);
});
