/**
 * The `develop.watch` scenario of issue 17, run on each runtime by watch.test.ts: `up -d --watch` starts a detached
 * watcher (listed by `ps` and `ls`, one per project), then each action is shown by its effect in the container —
 * sync (an ignored file does not move, a deletion does), sync+restart, sync+exec (user, working dir, environment),
 * restart, rebuild — `logs` shows what the watcher did, and `down` stops it.
 */
import { expect } from '@jest/globals';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type Run = (...args: string[]) => SpawnSyncReturns<string>;

export function watchFiles(image: string): Record<string, string> {
  return {
    'compose.yaml': `services:
  app:
    build: .
    init: true
    develop:
      watch:
        - { path: ./src, target: /app, action: sync, ignore: [ignored/] }
        - { path: ./cfg, target: /cfg, action: sync+restart }
        - path: ./hooks
          target: /hooks
          action: sync+exec
          exec:
            command: ["sh", "-c", "echo \\"$$MODE $$(id -u) $$(pwd)\\" > /tmp/exec.out"]
            user: "65534"
            working_dir: /hooks
            environment: { MODE: dev }
        - { path: ./restart.flag, action: restart }
        - { path: ./version.txt, action: rebuild }
`,
    Dockerfile: `FROM ${image}\nCOPY version.txt /version.txt\nCMD ["sh", "-c", "date +%s%N >> /tmp/starts; exec sleep 3600"]\n`,
    '.dockerignore': 'src/secret.txt\n',
    'version.txt': 'v1\n',
    'src/a.txt': 'one\n',
    'cfg/c.ini': 'x=1\n',
    'hooks/.keep': '',
    'restart.flag': '0\n',
  };
}

const sleep = (ms: number): void => void spawnSync('sleep', [String(ms / 1000)]);

/** Runs the scenario against a project already written in `dir`; `ts` runs the CLI for it. */
export function watchScenario(dir: string, ts: Run): void {
  const ok = (r: SpawnSyncReturns<string>): string => {
    if (r.status !== 0) throw new Error(`exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r.stdout;
  };
  const sh = (cmd: string): string => (ts('exec', '-T', 'app', 'sh', '-c', cmd).stdout ?? '').trim();
  const until = (what: string, cond: () => boolean, ms = 20_000): void => {
    for (const end = Date.now() + ms; !cond(); sleep(150))
      if (Date.now() > end) throw new Error(`timed out: ${what}\nwatch log:\n${ts('logs').stdout}`);
  };
  const write = (f: string, text: string): void => {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), text);
  };

  ok(ts('up', '-d', '--watch'));
  expect(ts('ps').stdout).toMatch(/watch: running in the background \(pid \d+.*\) for app/);
  expect(ts('ls').stdout).toMatch(/running\(1\), watching/);
  const again = ts('up', '-d', '--watch');
  expect(again.status).toBe(0);
  expect(again.stderr).toMatch(/Watch already running in the background/);

  // sync: a change, a new file in a new directory; an ignored file and a .dockerignore'd one never move
  write('src/a.txt', 'two\n');
  write('src/ignored/x.txt', 'no\n');
  write('src/secret.txt', 'no\n');
  write('src/sub/b.txt', 'bee\n');
  until('sync of src/a.txt and src/sub/b.txt', () => sh('cat /app/a.txt /app/sub/b.txt 2>/dev/null') === 'two\nbee');
  expect(sh('ls /app/ignored /app/secret.txt 2>&1; true')).toMatch(/No such file or directory[\s\S]*No such file or directory/);
  // a deletion is synced
  rmSync(join(dir, 'src', 'a.txt'));
  until('deletion of /app/a.txt', () => sh('test -e /app/a.txt && echo there || echo gone') === 'gone');

  // sync+restart: the file, then one restart (a second line in /tmp/starts)
  const starts = (): number => Number(sh('wc -l < /tmp/starts') || 0);
  expect(starts()).toBe(1);
  write('cfg/c.ini', 'x=2\n');
  until('sync+restart of cfg/c.ini', () => sh('cat /cfg/c.ini 2>/dev/null') === 'x=2' && starts() === 2);

  // sync+exec: the command runs as the given user, in the working dir, with the environment
  write('hooks/run.sh', 'echo hi\n');
  until('sync+exec', () => sh('cat /tmp/exec.out 2>/dev/null') === 'dev 65534 /hooks');
  expect(sh('cat /hooks/run.sh')).toBe('echo hi');

  // restart
  write('restart.flag', '1\n');
  until('restart', () => starts() === 3);

  // rebuild: a new image, a new container with the new file
  write('version.txt', 'v2\n');
  until('rebuild', () => sh('cat /version.txt 2>/dev/null') === 'v2', 180_000);

  // logs shows what the watcher did
  const logs = ok(ts('logs'));
  expect(logs).toMatch(/watch +\| Syncing service "app" after/);
  expect(logs).toMatch(/watch +\| Rebuilding service "app"/);

  // down stops the watcher
  const pid = Number(/pid (\d+)/.exec(ts('ps').stdout)?.[1]);
  expect(pid).toBeGreaterThan(0);
  ok(ts('down', '-t', '0'));
  // Gone (or a zombie waiting for whoever adopted it to reap it: no command line any more).
  expect(existsSync(`/proc/${pid}`) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8') : '').toBe('');
  expect(ts('ps').stdout).not.toMatch(/watch:/);
}

/**
 * `watch` in the foreground (after `up`), then `up --watch` attached: each syncs an edit, prints what it did, and
 * ends on SIGINT (the watch with status 0).
 */
export async function foregroundScenario(dir: string, command: readonly string[], ts: Run): Promise<void> {
  const child = spawn(command[0]!, command.slice(1), { cwd: dir, env: { ...process.env, NO_COLOR: '1' } as NodeJS.ProcessEnv });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const wait = async (what: string, cond: () => boolean, ms = 60_000): Promise<void> => {
    for (const end = Date.now() + ms; !cond(); await new Promise((r) => setTimeout(r, 150)))
      if (Date.now() > end) throw new Error(`timed out: ${what}\noutput:\n${out}`);
  };
  try {
    await wait('watch enabled', () => /Watch enabled for "app"/.test(out));
    const token = `t${Date.now()}`;
    writeFileSync(join(dir, 'src', 'fg.txt'), token);
    await wait('sync in the foreground', () => (ts('exec', '-T', 'app', 'cat', '/app/fg.txt').stdout ?? '').trim() === token);
    await wait('sync printed', () => /Syncing service "app" after 1 change was detected/.test(out));
  } finally {
    child.kill('SIGINT');
  }
  const code = await exited;
  if (command.includes('watch') && !command.includes('--watch')) expect(code).toBe(0);
}
