import { describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pidAlive } from '../fs/proc.js';
import { setprivTool, spawnTied, tiedArgs } from './tied-spawn.js';

const tool = setprivTool();

async function until(check: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) if (check()) return true;
  return check();
}

(tool ? describe : describe.skip)('spawnTied (setpriv found)', () => {
  test('a child that ends on its own: its stdin, stdout and exit status pass through; the death command never runs', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tsc-tied-'));
    try {
      const marker = path.join(dir, 'dead');
      const child = spawnTied('sh', ['-c', 'read line; echo "got $line"; exit 7'], { command: 'touch', args: [marker] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stdin.end('hello\n');
      const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
      expect(code).toBe(7);
      expect(out).toBe('got hello\n');
      await sleep(100);
      expect(existsSync(marker)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the parent killed (SIGKILL): the death command runs, and the child ends when it kills it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tsc-tied-'));
    try {
      const pidFile = path.join(dir, 'pid');
      const marker = path.join(dir, 'dead');
      // The child records its pid and sleeps (as a runtime's `run` waits for its container); the death command
      // kills it by that pid (as `runtime kill ID KILL` does by name) and leaves a mark.
      const argv = tiedArgs('sh', ['-c', `echo $$ > ${pidFile}; exec sleep 60`], {
        command: 'sh',
        args: ['-c', `kill -9 "$(cat ${pidFile})"; echo dead > ${marker}`],
      });
      const script = `require('child_process').spawn(process.argv[1], JSON.parse(process.argv[2]), { stdio: 'ignore' }); setInterval(() => {}, 1000);`;
      const parent = spawn(process.execPath, ['-e', script, tool!, JSON.stringify(argv)], { stdio: 'ignore' });
      expect(await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 5000)).toBe(true);
      const sleeper = Number(readFileSync(pidFile, 'utf8').trim());
      expect(pidAlive(sleeper)).toBe(true);
      parent.kill('SIGKILL');
      expect(await until(() => existsSync(marker), 5000)).toBe(true);
      expect(await until(() => !pidAlive(sleeper), 5000)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('tiedArgs: setpriv with a parent-death signal, the death command quoted as one word, the command after it', () => {
  const a = tiedArgs('/usr/bin/crun', ['--root', '/r', 'run', 'x y'], { command: '/usr/bin/crun', args: ['--root', '/r', 'kill', "it's", 'KILL'] });
  expect(a.slice(0, 5)).toEqual(['--pdeathsig', 'TERM', '--', '/bin/sh', '-c']);
  expect(a.slice(6)).toEqual(['tied', `/usr/bin/crun --root /r kill 'it'\\''s' KILL`, '/usr/bin/crun', '--root', '/r', 'run', 'x y']);
});
