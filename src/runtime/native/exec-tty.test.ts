import { describe, expect, test } from '@jest/globals';
import { PassThrough } from 'node:stream';
import { ConmonPipeReader, failedExecCode } from './exec-tty.js';

describe("conmon's sync and attach pipes", () => {
  test('JSON lines in any chunks, in order; a message with them; undefined once the pipe ended', async () => {
    const pipe = new PassThrough();
    const r = new ConmonPipeReader(pipe);
    const first = r.next();
    pipe.write('{"data": 12');
    pipe.write('34}\n{"data": -1, "message": "exec failed: \\"x\\" not found"}\n');
    pipe.write('not json\n{"other": 1}\n{"data": 7}\n');
    expect(await first).toEqual({ data: 1234 });
    expect(await r.next()).toEqual({ data: -1, message: 'exec failed: "x" not found' });
    expect(await r.next()).toEqual({ data: 7 });
    const last = r.next();
    pipe.end();
    expect(await last).toBeUndefined();
    expect(await r.next()).toBeUndefined();
  });
});

describe('the exit code of an exec the runtime could not start', () => {
  test('127 when not found, else 126 (as the exec without a TTY)', () => {
    expect(failedExecCode('exec failed: executable file `nope` not found in $PATH: No such file or directory')).toBe(127);
    expect(failedExecCode('exec failed: permission denied')).toBe(126);
    expect(failedExecCode('')).toBe(126);
  });
});
