/**
 * A real terminal for e2e tests of `run`, `attach` and `exec` with a TTY: the command runs under util-linux `script`,
 * which gives it a pseudo-terminal of its own (the test writes its input and reads its output through pipes).
 */
import { expect } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';

export const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

/** `cmd` run by `script` under a terminal of its own: its input, its output so far, its exit, and a wait for a text. */
export function underTerminal(cmd: string, cwd: string, env: NodeJS.ProcessEnv) {
  const child = spawn('script', ['-qec', cmd, '/dev/null'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const until = async (what: string | RegExp): Promise<void> => {
    const seen = (): boolean => (typeof what === 'string' ? out.includes(what) : what.test(out));
    for (let i = 0; i < 300 && !seen(); i++) await new Promise((r) => setTimeout(r, 100));
    if (typeof what === 'string') expect(out).toContain(what);
    else expect(out).toMatch(what);
  };
  return { child, output: () => out, exited, until };
}
