/** Detach keys: docker's syntax, and matching as moby's escape proxy (held back while partial, dropped when whole). */
import { expect, test } from '@jest/globals';
import { Readable } from 'node:stream';
import { UsageError } from '../errors.js';
import { DetachKeyScanner, detachKeyFilter, parseDetachKeys } from './detach-keys.js';

test('parse: ctrl-<x> and single characters; anything else is a usage error', () => {
  expect([...parseDetachKeys('ctrl-p,ctrl-q')]).toEqual([0x10, 0x11]);
  expect([...parseDetachKeys('ctrl-@,ctrl-[,ctrl-_,a,CTRL-A')]).toEqual([0, 27, 31, 0x61, 1]);
  expect(() => parseDetachKeys('ctrl-1')).toThrow(UsageError);
  expect(() => parseDetachKeys('ab')).toThrow(/--detach-keys: unknown key "ab"/);
});

test('scanner: a whole sequence detaches and is not forwarded; a broken one is forwarded as typed', () => {
  const keys = parseDetachKeys('ctrl-p,ctrl-q');
  const s = new DetachKeyScanner(keys);
  expect(s.push(Buffer.from('ab'))).toEqual({ forward: Buffer.from('ab'), detached: false });
  expect(s.push(Buffer.from([0x10]))).toEqual({ forward: Buffer.alloc(0), detached: false });
  expect(s.push(Buffer.from('x'))).toEqual({ forward: Buffer.from([0x10, 0x78]), detached: false });
  expect(s.push(Buffer.from([0x10, 0x10]))).toEqual({ forward: Buffer.from([0x10]), detached: false });
  expect(s.push(Buffer.from([0x11, 0x61]))).toEqual({ forward: Buffer.alloc(0), detached: true });
  expect(s.push(Buffer.from('z'))).toEqual({ forward: Buffer.from('z'), detached: false });
  expect(new DetachKeyScanner(Buffer.alloc(0)).push(Buffer.from([0x10, 0x11]))).toEqual({ forward: Buffer.from([0x10, 0x11]), detached: false });
});

test('filter: forwards up to the keys, then calls onDetach once and forwards nothing more', async () => {
  let detaches = 0;
  const f = detachKeyFilter(parseDetachKeys('ctrl-p,ctrl-q'), () => detaches++);
  const parts: Buffer[] = [];
  f.on('data', (d: Buffer) => parts.push(d));
  const done = new Promise((r) => f.on('end', r));
  Readable.from([Buffer.from('hi\n'), Buffer.from([0x10]), Buffer.from([0x11]), Buffer.from('late')]).pipe(f);
  await done;
  expect(Buffer.concat(parts).toString()).toBe('hi\n');
  expect(detaches).toBe(1);
});
