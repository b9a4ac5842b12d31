import { describe, expect, test } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseProcStat, pidAlive, processRunning, readPidFile } from './proc.js';

describe('pidAlive / processRunning', () => {
  test('this process is alive and running; init is alive', () => {
    expect(pidAlive(process.pid)).toBe(true);
    expect(processRunning(process.pid)).toBe(true);
    expect(pidAlive(1)).toBe(true);
  });

  test('an exited, reaped process is neither', () => {
    const pid = spawnSync('true').pid!;
    expect(pidAlive(pid)).toBe(false);
    expect(processRunning(pid)).toBe(false);
  });

  test('not a pid: 0, negative, fractional, NaN', () => {
    for (const pid of [0, -1, 1.5, Number.NaN]) expect(pidAlive(pid)).toBe(false);
  });

  test('a zombie is alive but not running', async () => {
    // sh starts a short sleep in the background and execs a long one, which never waits for it: once the short
    // one exits it stays a zombie.
    const parent = spawn('sh', ['-c', 'sleep 0.5 & echo $!; exec sleep 10'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const pid = Number(await new Promise<string>((r) => parent.stdout.once('data', (d: Buffer) => r(d.toString()))));
      const end = Date.now() + 5000;
      while (processRunning(pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      expect(parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).state).toBe('Z');
      expect(pidAlive(pid)).toBe(true);
      expect(processRunning(pid)).toBe(false);
    } finally {
      parent.kill('SIGKILL');
    }
  });
});

describe('parseProcStat', () => {
  test('a command name with spaces and parentheses', () => {
    const s = parseProcStat('4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 3 1 0 0 20 0 1 0 12345 100000 200\n');
    expect(s.comm).toBe('my (odd) name');
    expect(s.state).toBe('S');
    expect(s.fields[0]).toBe('S');
    expect(s.fields[22 - 3]).toBe('12345'); // field 22: start time
  });

  test('this process’s own stat', () => {
    const s = parseProcStat(readFileSync('/proc/self/stat', 'utf8'));
    expect(s.state).toMatch(/^[RS]$/);
    expect(s.comm.length).toBeGreaterThan(0);
  });
});

describe('readPidFile', () => {
  test('the number in the file (a trailing newline allowed); 0 for no file, no number or not a pid', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pidfile-'));
    try {
      const f = path.join(dir, 'x.pid');
      expect(readPidFile(f)).toBe(0);
      for (const [text, want] of [
        ['1234\n', 1234],
        ['77', 77],
        ['', 0],
        ['abc', 0],
        ['-5', 0],
        ['0', 0],
      ] as const) {
        writeFileSync(f, text);
        expect(readPidFile(f)).toBe(want);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
