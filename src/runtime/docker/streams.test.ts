import { describe, expect, test } from '@jest/globals';
import { Readable } from 'node:stream';
import { Demuxer, LineSplitter, readProgress, splitTimestamp, type ProgressMessage } from './streams.js';

const frame = (type: number, text: string): Buffer => {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
};

describe('progress streams', () => {
  test('an errorDetail makes the stream a failure, split across chunks', async () => {
    const seen: ProgressMessage[] = [];
    const stream = Readable.from([
      '{"status":"Pulling fs layer","id":"a"}\n{"errorDetail":{"message":"manifest un',
      'known"},"error":"manifest unknown"}\n',
    ]);
    expect(await readProgress(stream, (m) => seen.push(m))).toBe('manifest unknown');
    expect(seen).toHaveLength(2);
  });

  test('success, blank lines, non-JSON lines and a final line without newline', async () => {
    const seen: ProgressMessage[] = [];
    const stream = Readable.from(['\n{"stream":"Step 1/2"}\r\n', 'garbage\n{"aux":{"ID":"sha256:x"}}']);
    expect(await readProgress(stream, (m) => seen.push(m))).toBeUndefined();
    expect(seen).toEqual([{ stream: 'Step 1/2' }, { stream: 'garbage\n' }, { aux: { ID: 'sha256:x' } }]);
  });

  test('a bare `error` also counts', async () => {
    expect(await readProgress(Readable.from(['{"error":"boom"}\n']), () => undefined)).toBe('boom');
  });
});

describe('demux and lines', () => {
  test('frames split at any byte boundary', () => {
    const out: [string, string][] = [];
    const d = new Demuxer((s, p) => out.push([s, p.toString()]));
    const all = Buffer.concat([frame(1, 'out1\n'), frame(2, 'err1\n'), frame(1, 'out2\n')]);
    for (let i = 0; i < all.length; i += 3) d.push(all.subarray(i, i + 3));
    d.end();
    expect(out.map(([s, t]) => s + ':' + t).join('')).toBe('stdout:out1\nstderr:err1\nstdout:out2\n');
  });

  test('raw (TTY) mode and non-multiplexed data pass through as stdout', () => {
    const out: string[] = [];
    new Demuxer((s, p) => out.push(`${s}:${p.toString()}`), true).push(Buffer.from('hello'));
    new Demuxer((s, p) => out.push(`${s}:${p.toString()}`)).push(Buffer.from('plain text output'));
    expect(out).toEqual(['stdout:hello', 'stdout:plain text output']);
  });

  test('line splitter keeps partial lines per stream, handles CRLF and split UTF-8', () => {
    const ls = new LineSplitter();
    expect(ls.push('stdout', Buffer.from('a\nb'))).toEqual(['a']);
    expect(ls.push('stderr', Buffer.from('x\r\n'))).toEqual(['x']);
    const euro = Buffer.from('€\n');
    expect(ls.push('stdout', euro.subarray(0, 1))).toEqual([]);
    expect(ls.push('stdout', euro.subarray(1))).toEqual(['b€']);
    expect(ls.push('stdout', Buffer.from('tail'))).toEqual([]);
    expect(ls.flush()).toEqual([{ stream: 'stdout', line: 'tail' }]);
  });

  test('timestamps', () => {
    expect(splitTimestamp('2024-01-02T03:04:05.123456789Z hello world')).toEqual({
      timestamp: '2024-01-02T03:04:05.123456789Z',
      line: 'hello world',
    });
    expect(splitTimestamp('no stamp')).toEqual({ line: 'no stamp' });
  });
});
