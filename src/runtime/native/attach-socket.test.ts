import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { connectAttachSocket, RELAY_SCRIPT, resizeMessage, resizeTerminal, TerminalSizer } from './attach-socket.js';

const hasPerl = spawnSync('perl', ['-e', '1']).status === 0;

/**
 * conmon's side of the attach socket, in Perl (Node cannot listen on SOCK_SEQPACKET either): accepts one client, sends
 * a stdout and a stderr message (the stream byte first), then echoes each message it receives back as stdout with a
 * `got:` prefix, writes what it received to `received` and closes when the client shuts its write side.
 */
const SERVER = `use strict; use Socket;
my $dir = shift; chdir($dir) or die;
socket(my $l, AF_UNIX, SOCK_SEQPACKET, 0) or die "socket $!";
bind($l, pack_sockaddr_un('attach')) or die "bind $!";
listen($l, 1) or die; open(my $m, '>', 'listening'); close($m);
accept(my $c, $l) or die "accept $!";
send($c, chr(2) . "out\\n", 0); send($c, chr(3) . "err\\n", 0);
my $all = '';
while (1) { my $r = sysread($c, my $buf, 65536); last unless $r; $all .= $buf; send($c, chr(2) . "got:$buf", 0); }
open(my $f, '>', 'received'); print $f $all; close($f);
send($c, chr(2) . "bye\\n", 0);
close($c);
`;

(hasPerl ? describe : describe.skip)('the attach socket relay (against a stand-in for conmon)', () => {
  let dir: string;
  let server: ChildProcess;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tsc-attach-sock-'));
    server = spawn('perl', ['-e', SERVER, dir], { stdio: 'ignore' });
    for (let i = 0; i < 200 && !existsSync(path.join(dir, 'listening')); i++) await new Promise((r) => setTimeout(r, 10));
  });

  afterEach(() => {
    server.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  const text = (s: NodeJS.ReadableStream): Promise<string> =>
    new Promise((resolve) => {
      let out = '';
      s.on('data', (d: Buffer) => (out += d.toString()));
      s.on('end', () => resolve(out));
    });

  test('relay: messages to stdout or stderr by their stream byte; stdin as messages; its end shuts the write side', async () => {
    const relay = await connectAttachSocket(dir, 'relay');
    const [out, err] = [text(relay.stdout), text(relay.stderr)];
    relay.input.write('typed\n');
    await new Promise((r) => setTimeout(r, 100));
    relay.input.end();
    await relay.exited;
    expect(await out).toBe('out\ngot:typed\nbye\n');
    expect(await err).toBe('err\n');
    expect(readFileSync(path.join(dir, 'received'), 'utf8')).toBe('typed\n');
  });

  test('discard: nothing comes out, the input still goes in; the relay exits when its stdin ends', async () => {
    const relay = await connectAttachSocket(dir, 'discard');
    const out = text(relay.stdout);
    relay.input.end('x');
    await relay.exited;
    expect(await out).toBe('');
    // The relay does not wait for the other side to finish: the stand-in writes what it got once it saw the end.
    if (server.exitCode === null) await new Promise((r) => server.once('exit', r));
    expect(readFileSync(path.join(dir, 'received'), 'utf8')).toBe('x');
  });

  test('no socket: TSC_NATIVE_ATTACH with the reason', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'tsc-attach-none-'));
    try {
      await expect(connectAttachSocket(empty, 'relay')).rejects.toMatchObject({
        code: 'TSC_NATIVE_ATTACH',
        message: expect.stringContaining('cannot connect'),
      });
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('terminal size', () => {
  test("conmon's resize message: 1 HEIGHT WIDTH, whole positive numbers", () => {
    expect(resizeMessage({ rows: 24, columns: 80 })).toBe('1 24 80\n');
    expect(resizeMessage({ rows: 24.7, columns: -3 })).toBe('1 24 0\n');
    expect(resizeMessage({ rows: Number.NaN, columns: 1e9 })).toBe('1 0 65535\n');
  });

  test('resizeTerminal writes to a FIFO with a reader; false without one or without the FIFO', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tsc-ctl-'));
    try {
      const ctl = path.join(dir, 'ctl');
      expect(resizeTerminal(ctl, { rows: 1, columns: 2 })).toBe(false);
      execFileSync('mkfifo', [ctl]);
      expect(resizeTerminal(ctl, { rows: 1, columns: 2 })).toBe(false); // nobody reads it (conmon not there)
      writeFileSync(path.join(dir, 'plain'), '');
      expect(resizeTerminal(path.join(dir, 'plain'), { rows: 30, columns: 100 })).toBe(true);
      expect(readFileSync(path.join(dir, 'plain'), 'utf8')).toBe('1 30 100\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('TerminalSizer: never two sizes within the gap; the latest one asked for in it is sent at its end', async () => {
    const sent: Array<{ at: number; rows: number; columns: number }> = [];
    const start = performance.now();
    const sizer = new TerminalSizer((s) => sent.push({ at: performance.now() - start, ...s }), 100);
    sizer.resize({ rows: 33, columns: 91 });
    expect(sent.map((s) => `${s.rows}x${s.columns}`)).toEqual(['33x91']); // at once: nothing was sent before
    sizer.resize({ rows: 33, columns: 120 }); // stty's first ioctl
    sizer.resize({ rows: 40, columns: 120 }); // and its second
    expect(sent).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 250));
    expect(sent.map((s) => `${s.rows}x${s.columns}`)).toEqual(['33x91', '40x120']);
    expect(sent[1]!.at - sent[0]!.at).toBeGreaterThanOrEqual(99);
    sizer.resize({ rows: 50, columns: 60 }); // the gap is over: at once
    expect(sent).toHaveLength(3);
    sizer.resize({ rows: 51, columns: 61 });
    sizer.close(); // the terminal went away: the waiting size is dropped
    await new Promise((r) => setTimeout(r, 200));
    expect(sent).toHaveLength(3);
  });

  (hasPerl ? test : test.skip)('the relay script compiles', () => {
    expect(spawnSync('perl', ['-c', '-e', RELAY_SCRIPT], { encoding: 'utf8' }).stderr).toContain('syntax OK');
  });
});
