/**
 * The Runtime contract (../contract/suite.ts) on the fake runtime, always. The fake runs no processes, so this file
 * gives it small simulations of what the suite's busybox commands do (`onStart`: `sh -c 'echo …; exit N'`, servers
 * and `sleep` keep running; `onExec`: echo, exit, env, `id -u`, pwd, 126 for /etc/passwd, 127 for anything unknown).
 * Its differences from a real backend are the capabilities below.
 */
import type { ContainerInspect, ExecResult, ExecSpec } from '../runtime.js';
import { runtimeContract } from '../contract/suite.js';
import { FakeRuntime, type FakeStartHandler } from './fake-runtime.js';

/**
 * `sh -c 'a; b >&2; exit N'` → its echoed lines and exit code (a `sleep` in it is a pause); `sleep` and the servers
 * (nc, python3) as the command keep running; any other command exits 0 at once.
 */
const simulateStart: FakeStartHandler = (_c, spec) => {
  const cmd = [...(spec.entrypoint ?? []), ...(spec.command ?? [])];
  if (cmd[0] === 'sleep' || cmd[0] === 'nc' || cmd[0] === 'python3') return undefined;
  if (cmd[0] !== 'sh' || cmd[1] !== '-c') return { exitCode: 0 };
  const output: { stream: 'stdout' | 'stderr'; line: string }[] = [];
  for (const statement of (cmd[2] ?? '').split(';').map((x) => x.trim())) {
    const [word, ...rest] = statement.split(/\s+/);
    if (word === 'exit') return { output, exitCode: Number(rest[0] ?? 0) };
    if (word === 'echo') {
      if (rest.some((r) => r.startsWith('>') && r !== '>&2')) continue; // written to a file: no output
      const toStderr = rest.at(-1) === '>&2';
      output.push({ stream: toStderr ? 'stderr' : 'stdout', line: (toStderr ? rest.slice(0, -1) : rest).join(' ') });
    }
  }
  return { output, exitCode: 0 };
};

const simulateExec = (_c: ContainerInspect, spec: ExecSpec): ExecResult => {
  const ok = (stdout: string): ExecResult => ({ exitCode: 0, stdout, stderr: '' });
  const [word, ...args] = spec.cmd;
  if (word === 'echo') return ok(args.join(' ') + '\n');
  if (word === 'true') return ok('');
  if (word === 'pwd') return ok(`${spec.workdir ?? '/'}\n`);
  if (word === 'id' && args[0] === '-u') return ok(`${spec.user ?? '0'}\n`);
  if (word === 'sh' && args[0] === '-c') {
    const script = args[1] ?? '';
    const exit = /^exit (\d+)$/.exec(script);
    if (exit) return { exitCode: Number(exit[1]), stdout: '', stderr: '' };
    const echoVar = /^echo \$(\w+)$/.exec(script);
    if (echoVar) return ok(`${(spec.env ?? []).find((e) => e.startsWith(`${echoVar[1]}=`))?.slice(echoVar[1]!.length + 1) ?? ''}\n`);
  }
  // a file busybox's image has that is not executable
  if (word === '/etc/passwd') return { exitCode: 126, stdout: '', stderr: `exec: "${word}": permission denied\n` };
  return { exitCode: 127, stdout: '', stderr: `exec: "${word}": executable file not found in $PATH\n` };
};

runtimeContract('fake', {
  unavailable: undefined,
  setup: () =>
    Promise.resolve({
      runtime: new FakeRuntime({
        images: { 'busybox:latest': 'sha256:b0', 'python:3.11-slim': 'sha256:b1' },
        onStart: simulateStart,
        onExec: simulateExec,
      }),
      images: { busybox: 'busybox:latest', python: 'python:3.11-slim' },
      // The fake's differences from a real backend: no sockets, no DNS, no file system, no processes.
      capabilities: { reachablePorts: false, dns: false, volumeContent: false, processes: false },
    }),
});
