/**
 * The detach keys of `attach --detach-keys` and `run` (docker's default `ctrl-p,ctrl-q`): parsed as moby/term's
 * `ToBytes` does (a comma-separated list; each a single character or `ctrl-<a-z @ [ \ ] ^ _>`), and matched in the
 * forwarded input as moby's escape proxy does: the bytes of a partial match are held back and forwarded when the
 * sequence breaks; a full match is not forwarded and detaches.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { UsageError } from '../errors.js';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

const CTRL_NAMES = '@abcdefghijklmnopqrstuvwxyz[\\]^_';

/** `ctrl-p,ctrl-q` → [0x10, 0x11]. A usage error for anything else than docker accepts. */
export function parseDetachKeys(keys: string): Buffer {
  const codes: number[] = [];
  for (const key of keys.split(',')) {
    if (key.length === 1) {
      codes.push(key.charCodeAt(0));
      continue;
    }
    const m = /^ctrl-(.)$/i.exec(key);
    const i = m ? CTRL_NAMES.indexOf(m[1]!.toLowerCase()) : -1;
    if (i < 0)
      throw new UsageError(`--detach-keys: unknown key "${key}"`, {
        hint: 'a comma-separated list of single characters or ctrl-<a-z, @, [, \\, ], ^, _>, e.g. ctrl-p,ctrl-q',
      });
    codes.push(i);
  }
  return Buffer.from(codes);
}

/** Finds the detach keys in a stream of input chunks. */
export class DetachKeyScanner {
  private matched = 0;

  constructor(private readonly keys: Buffer) {}

  /** What of `chunk` to forward, and whether the keys were completed (the rest of the chunk is then dropped). */
  push(chunk: Buffer): { readonly forward: Buffer; readonly detached: boolean } {
    if (this.keys.length === 0) return { forward: chunk, detached: false };
    const out: number[] = [];
    for (const byte of chunk) {
      if (byte === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) {
          this.matched = 0;
          return { forward: Buffer.from(out), detached: true };
        }
        continue;
      }
      // The sequence broke: what was held back goes on, and this byte may start a new match.
      for (let i = 0; i < this.matched; i++) out.push(this.keys[i]!);
      this.matched = 0;
      if (byte === this.keys[0]) this.matched = 1;
      else out.push(byte);
    }
    return { forward: Buffer.from(out), detached: false };
  }
}

/** A stream that forwards its input without the detach keys and calls `onDetach` (once) when they are typed. */
export function detachKeyFilter(keys: Buffer, onDetach: () => void): Transform {
  const scanner = new DetachKeyScanner(keys);
  let detached = false;
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      if (detached) return cb();
      const r = scanner.push(chunk);
      if (r.forward.length > 0) this.push(r.forward);
      if (r.detached) {
        detached = true;
        onDetach();
      }
      cb();
    },
  });
}
