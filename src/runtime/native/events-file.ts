/**
 * The native runtime's event log, `<state>/events.jsonl`, kept to two generations: once an append leaves it larger
 * than EVENTS_ROTATE_BYTES it is renamed to `events.jsonl.1` (replacing the generation before) and the next append
 * starts a new file. Docker keeps only its last events (a ring buffer in dockerd) for `events --since`; here ~1 MiB
 * is a few thousand events. Without it the file grew without end (160 MB on a test machine after two days of
 * benchmarks), and every `logs --follow` and attached `up` (`events` from the follow's start) read all of it.
 *
 * Writers open, append one line (O_APPEND: concurrent writers stay whole), look at the size of what they wrote to,
 * and rename it only if the path still names that file (two writers past the limit at once rename it once).
 * Readers (logs.ts tailJsonLines) read the previous generation first and notice the rename by the inode.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isMissing } from '../../lib/errors.js';
import type { Labels } from '../runtime.js';
import type { NativePaths } from './state.js';

/** The size past which the event log is renamed to its previous generation. */
export const EVENTS_ROTATE_BYTES = 1 << 20;

/** The previous generation of a rotated JSON-lines file. */
export function previousGeneration(file: string): string {
  return `${file}.1`;
}

/** Appends `line` (ending in a newline) to `file`, made with its directory when missing, and rotates it when large. */
export async function appendRotating(file: string, line: string, rotateBytes = EVENTS_ROTATE_BYTES): Promise<void> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(file, 'a');
  } catch (e) {
    if (!isMissing(e)) throw e;
    await fs.mkdir(path.dirname(file), { recursive: true });
    fh = await fs.open(file, 'a');
  }
  let rotate: number | undefined;
  try {
    await fh.write(line);
    const st = await fh.stat();
    if (st.size > rotateBytes) rotate = st.ino;
  } finally {
    await fh.close();
  }
  if (rotate === undefined) return;
  const now = await fs.stat(file).catch(() => undefined);
  if (now?.ino === rotate) await fs.rename(file, previousGeneration(file)).catch(() => undefined);
}

/**
 * Appends engine events to events.jsonl; one `write` per event with O_APPEND keeps concurrent writers whole. The
 * file is kept to two generations of ~1 MiB (above).
 */
export async function appendEvent(
  paths: NativePaths,
  event: { type: string; action: string; id: string; attributes: Labels; time?: number },
): Promise<void> {
  await appendRotating(paths.events, `${JSON.stringify({ ...event, time: event.time ?? Date.now() })}\n`);
}
