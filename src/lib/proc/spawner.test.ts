import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseProcStat, processRunning } from '../fs/proc.js';
import { shellQuote, Spawner } from './spawner.js';

describe('Spawner', () => {
  let s: Spawner;
  beforeEach(() => {
    s = new Spawner();
  });
  afterEach(() => s.close());

  it('runs commands through one helper shell, with their output, status, env and cwd', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsc-spawner-'));
    try {
      const [a, b, c] = await Promise.all([
        s.run({ command: 'sh', args: ['-c', 'echo "$1 $X"; echo err >&2; exit 3', 'sh', "it's a $word"], env: { X: 'x y' } }),
        s.run({ command: 'pwd', args: [], cwd: dir }),
        s.run({ command: 'true', args: [], output: 'ignore' }),
      ]);
      expect(a).toEqual({ code: 3, stdout: "it's a $word x y\n", stderr: 'err\n' });
      expect(b.stdout.trim()).toBe(dir);
      expect(c).toEqual({ code: 0, stdout: '', stderr: '' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs jobs concurrently and matches results to their jobs', async () => {
    const t0 = Date.now();
    const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => s.run({ command: 'sh', args: ['-c', `sleep 0.3; echo ${i}`] })));
    expect(rs.map((r) => r.stdout.trim())).toEqual(Array.from({ length: 10 }, (_, i) => String(i)));
    expect(Date.now() - t0).toBeLessThan(2500);
  });

  it('reports a missing command as 127 and spawns arguments with newlines directly', async () => {
    expect((await s.run({ command: '/no/such/cmd', args: [] })).code).toBe(127);
    expect(await s.run({ command: 'printf', args: ['%s', 'a\nb'] })).toEqual({ code: 0, stdout: 'a\nb', stderr: '' });
  });

  it('quotes words for sh', () => {
    expect(shellQuote('a/b-c.d=1')).toBe('a/b-c.d=1');
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('')).toBe("''");
  });
});

describe('Spawner daemons', () => {
  /** The session id of a process (field 6 of /proc/PID/stat). */
  const session = (pid: number | 'self'): string => parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).fields[3] ?? '';

  it('starts a detached command, through the helper and directly: its pid, env, cwd, output appended to the log, another session', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsc-spawner-'));
    const pids: number[] = [];
    try {
      for (const direct of [false, true]) {
        const sp = new Spawner(process.env, { direct });
        const log = join(dir, `log-${direct}`);
        writeFileSync(log, 'before\n');
        const pid = await sp.startDetached({
          command: 'sh',
          args: ['-c', 'echo "$X $PWD"; read -r _; exec sleep 30'],
          env: { X: 'x y' },
          cwd: dir,
          log,
        });
        expect(pid).toEqual(expect.any(Number));
        pids.push(pid!);
        sp.close(); // it outlives its starter
        for (let i = 0; i < 100 && !readFileSync(log, 'utf8').includes(dir); i++) await new Promise((r) => setTimeout(r, 20));
        expect(readFileSync(log, 'utf8')).toBe(`before\nx y ${dir}\n`); // stdin is /dev/null: `read` ended at once
        expect(processRunning(pid!)).toBe(true);
        expect(session(pid!)).not.toBe(session('self'));
      }
    } finally {
      for (const pid of pids) process.kill(pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Spawner input', () => {
  it('feeds `input` on stdin, through the helper and directly', async () => {
    const s = new Spawner();
    const d = new Spawner(process.env, { direct: true });
    try {
      for (const sp of [s, d])
        expect(await sp.run({ command: 'cat', args: [], input: "a 'b'\nc\n" })).toEqual({ code: 0, stdout: "a 'b'\nc\n", stderr: '' });
      expect((await d.run({ command: '/no/such/cmd', args: [] })).code).toBe(127);
    } finally {
      s.close();
    }
  });
});

describe('Spawner cleanup', () => {
  it('the helper removes its temporary directory when its stdin closes, also when the process dies without cleaning up', async () => {
    const s = new Spawner();
    expect((await s.run({ command: 'true', args: [] })).code).toBe(0);
    const inner = s as unknown as { dir: string; child: { stdin: { end(): void } } };
    const dir = inner.dir;
    expect(existsSync(dir)).toBe(true);
    inner.child.stdin.end(); // what a SIGKILL of this process does to the helper's stdin
    for (let i = 0; i < 100 && existsSync(dir); i++) await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(dir)).toBe(false);
  });
});
