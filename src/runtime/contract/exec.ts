/**
 * Runtime contract case for `exec` (run to its end, output collected), declared by ./suite.ts inside its describe:
 * output, exit codes, a missing command, env, user, workdir, and a stopped container refusing it. Exec with stdin is in
 * ./exec-stdin.ts, with a TTY in ./tty.ts.
 */
import { expect, test } from '@jest/globals';
import { CONFLICT, until, type ContractScope } from './scope.js';

export function execCases(scope: ContractScope): void {
  const { run } = scope;
  test('exec: output, exit codes, 127 for a missing command, 126 for one not executable, env, user, workdir', async () => {
    const rt = scope.runtime();
    const c = await run('exec');
    expect(await rt.exec(c, { cmd: ['echo', 'hello', 'there'] })).toMatchObject({ exitCode: 0, stdout: 'hello there\n' });
    expect((await rt.exec(c, { cmd: ['sh', '-c', 'exit 5'] })).exitCode).toBe(5);
    // A missing executable: Docker's API (20.10) answers 126 for it ("executable file not found in $PATH": the exec
    // could not start), so the port allows 126 or 127; a command the shell cannot find is always 127.
    expect([126, 127]).toContain((await rt.exec(c, { cmd: ['no-such-command-here'] })).exitCode);
    expect((await rt.exec(c, { cmd: ['sh', '-c', 'no-such-command-here'] })).exitCode).toBe(127);
    // A file that is not executable: 126 (Docker's answer; crun 1.8 says only "open executable: Permission denied")
    expect((await rt.exec(c, { cmd: ['/etc/passwd'] })).exitCode).toBe(126);
    expect((await rt.exec(c, { cmd: ['sh', '-c', 'echo $CONTRACT_VAR'], env: ['CONTRACT_VAR=from-exec'] })).stdout).toBe('from-exec\n');
    expect((await rt.exec(c, { cmd: ['id', '-u'], user: '1234' })).stdout).toBe('1234\n');
    expect((await rt.exec(c, { cmd: ['pwd'], workdir: '/tmp' })).stdout).toBe('/tmp\n');
    await rt.stopContainer(c, { timeoutSeconds: 2 });
    await expect(rt.exec(c, { cmd: ['true'] })).rejects.toMatchObject(CONFLICT);
  });

  test('exec detached (-d): answered once the process runs, which goes on on its own; its output goes nowhere', async () => {
    const rt = scope.runtime();
    const c = await run('exec-detach');
    const s = await rt.execStream(c, { cmd: ['sh', '-c', 'echo out; echo err >&2; sleep 2; echo done > /tmp/detached'], detach: true });
    expect(await s.wait()).toBe(0);
    const output: Buffer[] = [];
    for await (const chunk of s.stdout) output.push(chunk as Buffer);
    expect(Buffer.concat(output).toString()).toBe('');
    if (!scope.capabilities().processes) return;
    // still running when the answer came, and it finishes without anyone waiting for it
    expect((await rt.exec(c, { cmd: ['test', '-e', '/tmp/detached'] })).exitCode).toBe(1);
    await until('the detached process to finish', async () => (await rt.exec(c, { cmd: ['cat', '/tmp/detached'] })).stdout === 'done\n');
  });

  test("exec detached (-d) of a command that cannot start: an error in the runtime's words, as `docker exec -d` (exit 1)", async () => {
    const rt = scope.runtime();
    const c = await run('exec-detach-missing');
    const failed = rt.execStream(c, { cmd: ['no-such-command-here'], detach: true });
    await expect(failed).rejects.toMatchObject({ code: 'TSC_EXEC_START', exitCode: 1, message: expect.stringMatching(/not found/) });
    // the container goes on
    expect(await rt.exec(c, { cmd: ['echo', 'still'] })).toMatchObject({ exitCode: 0, stdout: 'still\n' });
  });
}
