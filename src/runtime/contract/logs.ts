/**
 * Runtime contract case for `containerLogs`, declared by ./suite.ts inside its describe: stdout and stderr lines, tail,
 * timestamps.
 */
import { expect, test } from '@jest/globals';
import type { ContractScope } from './scope.js';

const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

export function logsCases(scope: ContractScope): void {
  const { run, logs } = scope;
  test('logs: stdout and stderr lines, tail, timestamps', async () => {
    const rt = scope.runtime();
    // stdout and stderr are two pipes: their lines keep their order within a stream, not across streams, so the
    // last line comes a moment after the others
    const c = await run('logs', { command: ['sh', '-c', 'echo one; echo two >&2; sleep 0.5; echo three'] });
    expect(await rt.waitContainer(c)).toBe(0);
    const all = await logs(c);
    expect(all.filter((l) => l.stream === 'stdout').map((l) => l.line)).toEqual(['one', 'three']);
    expect(all.filter((l) => l.stream === 'stderr').map((l) => l.line)).toEqual(['two']);
    expect(all.every((l) => l.timestamp === undefined)).toBe(true);
    expect((await logs(c, { tail: 1 })).map((l) => l.line)).toEqual(['three']);
    expect(await logs(c, { tail: 0 })).toEqual([]);
    const stamped = await logs(c, { timestamps: true });
    expect(stamped).toHaveLength(3);
    for (const l of stamped) expect(l.timestamp).toMatch(TIMESTAMP);
  });
}
