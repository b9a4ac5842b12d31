import { describe, expect, test } from '@jest/globals';
import { bytesField, decodeStatus, readFields, stringFields, varintField } from './buildkit-proto.js';

const msg = (...parts: Buffer[]): Buffer => Buffer.concat(parts);
const ts = (ms: number): Buffer => msg(varintField(1, Math.floor(ms / 1000)), varintField(2, (ms % 1000) * 1e6));

describe('buildkit-proto', () => {
  test('varint and length-delimited fields round-trip, multi-byte lengths included', () => {
    const long = 'x'.repeat(300);
    const buf = msg(varintField(1, 150), bytesField(2, 'abc'), bytesField(3, long), varintField(4, 2 ** 40));
    const fields = readFields(buf);
    expect(fields.map((f) => f.no)).toEqual([1, 2, 3, 4]);
    expect(fields[0]).toEqual({ no: 1, varint: 150n });
    expect(stringFields(buf).get(3)).toBe(long);
    expect(fields[3]).toEqual({ no: 4, varint: 2n ** 40n });
  });

  test('proto3 defaults are omitted', () => {
    expect(varintField(1, 0)).toHaveLength(0);
    expect(bytesField(1, '')).toHaveLength(0);
  });

  test('fixed-width fields are skipped', () => {
    const fixed64 = Buffer.from([(9 << 3) | 1, 1, 2, 3, 4, 5, 6, 7, 8]);
    const fixed32 = Buffer.from([(8 << 3) | 5, 1, 2, 3, 4]);
    expect(stringFields(msg(fixed64, fixed32, bytesField(1, 'ok'))).get(1)).toBe('ok');
  });

  test('a truncated message is an error', () => {
    expect(() => readFields(Buffer.from([(1 << 3) | 2, 10, 65]))).toThrow(/truncated/);
    expect(() => readFields(Buffer.from([0x08, 0x80]))).toThrow(/truncated/);
  });

  test('decodes a StatusResponse: vertexes, statuses, logs, warnings', () => {
    const vertex = msg(
      bytesField(1, 'sha256:aaa'),
      bytesField(2, 'sha256:in'),
      bytesField(3, '[stage-0 2/3] RUN make'),
      varintField(4, 1),
      bytesField(5, ts(1_000_500)),
      bytesField(6, ts(1_002_000)),
      bytesField(7, 'boom'),
    );
    const status = msg(
      bytesField(1, 'extracting'),
      bytesField(2, 'sha256:aaa'),
      bytesField(3, 'extracting sha256:1'),
      varintField(4, 5),
      varintField(5, 10),
      bytesField(8, ts(1_001_000)),
    );
    const log = msg(bytesField(1, 'sha256:aaa'), bytesField(2, ts(1_000_700)), varintField(3, 2), bytesField(4, Buffer.from('out\n')));
    const warning = msg(bytesField(1, 'sha256:aaa'), varintField(2, 1), bytesField(3, 'careful'));
    const s = decodeStatus(msg(bytesField(1, vertex), bytesField(2, status), bytesField(3, log), bytesField(4, warning)));
    expect(s.vertexes).toEqual([
      {
        digest: 'sha256:aaa',
        inputs: ['sha256:in'],
        name: '[stage-0 2/3] RUN make',
        cached: true,
        started: 1_000_500,
        completed: 1_002_000,
        error: 'boom',
      },
    ]);
    expect(s.statuses).toEqual([
      { id: 'extracting', vertex: 'sha256:aaa', name: 'extracting sha256:1', current: 5, total: 10, started: undefined, completed: 1_001_000 },
    ]);
    expect(s.logs).toHaveLength(1);
    expect(s.logs[0]).toMatchObject({ vertex: 'sha256:aaa', timestamp: 1_000_700, stream: 2 });
    expect(s.logs[0]!.msg.toString()).toBe('out\n');
    expect(s.warnings).toEqual([{ vertex: 'sha256:aaa', short: 'careful' }]);
  });

  test('an empty message has no events', () => {
    expect(decodeStatus(Buffer.alloc(0))).toEqual({ vertexes: [], statuses: [], logs: [], warnings: [] });
  });
});
