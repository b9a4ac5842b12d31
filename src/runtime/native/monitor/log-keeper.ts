/**
 * The log keeper of a native container whose `logging` keeps rotated files (max-size with max-file >= 2): a small
 * detached process started just before conmon (./conmon.ts). conmon writes the log itself; the keeper only
 * watches the current file's size (inotify on the container directory) and, once it nears max-size, prepares the
 * next file (../log-files.ts) and asks conmon to reopen its log (`2 0 0` on the bundle's `ctl` FIFO: conmon's
 * REOPEN_LOGS_EVENT), which moves the prepared file in as `ctr.log`; the full one keeps its number. Then it
 * deletes the oldest files beyond max-file. conmon never rotates on its own here, so no line is lost; a file can
 * exceed max-size by what the container writes before the keeper reacts (a burst of more than an eighth of
 * max-size within a few milliseconds). The start waits for its `ready` (a file it makes) before starting conmon; it
 * exits once the container's exit file is written or conmon is gone.
 *
 *   node log-keeper.js <log file> <max-size> <max-file> <ctl fifo> <conmon pid file> <exit file> <ready file>
 */
import { closeSync, constants, existsSync, openSync, readFileSync, rmSync, statSync, watch, writeFileSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { helperEntry, isHelperEntry } from '../../../lib/helper-entry.js';
import { DirWaiter } from '../../../lib/fs/dir-waiter.js';
import { processRunning } from '../../../lib/fs/proc.js';
import type { Spawner } from '../../../lib/proc/spawner.js';
import { armLogFiles, prepareNextLogFile } from '../log-files.js';

/**
 * The size at which the keeper asks for a reopen: a little before max-size (an eighth, at most 64 KiB), as what the
 * container writes until conmon has reopened still goes to the full file.
 */
export function reopenThreshold(maxSize: number): number {
  return maxSize - Math.min(Math.floor(maxSize / 8), 64 * 1024);
}

export interface KeeperOptions {
  readonly file: string;
  readonly maxSize: number;
  readonly maxFile: number;
  /** Asks the writer to move the prepared file in (conmon: its ctl FIFO); throws when it cannot. */
  readonly reopen: () => void;
  /** Whether the writer may still write. */
  readonly alive: () => boolean;
  readonly pollMs?: number;
  /** Called once the keeper watches the file. */
  readonly ready?: () => void;
}

/** Runs the keeper until `alive()` turns false. */
export async function keepLogs(o: KeeperOptions): Promise<void> {
  let running: Promise<void> | undefined;
  let again = false;
  /** The current file a reopen was asked for (asked once per file). */
  let asked: number | undefined;
  const threshold = reopenThreshold(o.maxSize);
  /**
   * The urgent part, synchronous, straight from the inotify event: once the file nears max-size, prepare the next
   * one and ask for the reopen (what conmon writes meanwhile still goes to the full file).
   */
  const rotateIfFull = (): void => {
    const st = statSync(o.file, { throwIfNoEntry: false });
    if (!st || st.size < threshold || st.ino === asked) return;
    try {
      prepareNextLogFile(o.file);
      o.reopen();
      asked = st.ino;
    } catch {
      // not asked after all (conmon not ready yet, or gone): the next pass asks again
    }
  };
  const pass = async (): Promise<void> => {
    if (!statSync(o.file, { throwIfNoEntry: false })) return; // the container is being removed
    rotateIfFull();
    await armLogFiles(o.file, o.maxFile);
  };
  const check = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await pass().catch(() => undefined);
      } while (again);
      running = undefined;
    })();
    return running;
  };
  const base = path.basename(o.file);
  // A write ('change') only needs the size looked at; a rename (conmon's reopen, ours) the next file prepared.
  const watcher = watch(path.dirname(o.file), (event, name) => {
    if (name !== base && name !== `${base}.tmp`) return;
    rotateIfFull();
    if (event === 'rename') void check();
  });
  watcher.on('error', () => undefined);
  try {
    await check();
    o.ready?.();
    while (o.alive()) {
      await new Promise((r) => setTimeout(r, o.pollMs ?? 500));
      await check();
    }
  } finally {
    watcher.close();
  }
  await check();
}

/** conmon's REOPEN_LOGS_EVENT on its ctl FIFO (non-blocking: no reader = conmon gone or not yet there, ENXIO). */
export function reopenConmonLog(ctl: string): void {
  const fd = openSync(ctl, constants.O_WRONLY | constants.O_NONBLOCK);
  try {
    writeSync(fd, '2 0 0\n');
  } finally {
    closeSync(fd);
  }
}

/**
 * Starts the keeper (detached: it outlives the CLI; started by the helper shell, not forked from this process) and
 * waits until it watches (at most `readyMs`), so that it is there for the container's first lines. Returns its pid.
 */
export async function spawnLogKeeper(
  spawner: Spawner,
  args: { file: string; maxSize: number; maxFile: number; ctl: string; conmonPidFile: string; exitFile: string },
  readyMs = 3000,
): Promise<number | undefined> {
  const entry = helperEntry('log-keeper', import.meta.url);
  const readyFile = path.join(path.dirname(args.file), 'log-keeper.ready');
  rmSync(readyFile, { force: true });
  const argv = [args.file, String(args.maxSize), String(args.maxFile), args.ctl, args.conmonPidFile, args.exitFile, readyFile];
  // Woken by inotify when the keeper makes its ready file (a 5 ms poll besides, and for its end).
  const waiter = new DirWaiter(path.dirname(readyFile));
  try {
    // No TLS in it: without NODE_EXTRA_CA_CERTS, Node does not parse that file at its start (~40 ms).
    const pid = await spawner.startDetached({
      command: process.execPath,
      args: ['--max-semi-space-size=1', entry, ...argv],
      env: { NODE_EXTRA_CA_CERTS: '' },
    });
    const end = Date.now() + readyMs;
    // The pid exists from the helper's fork on (its shell for a moment, then the keeper): once it does not run, the
    // keeper ended without being ready.
    while (pid !== undefined && Date.now() < end && !existsSync(readyFile) && processRunning(pid)) await waiter.wait(5);
    rmSync(readyFile, { force: true });
    return pid;
  } finally {
    waiter.close();
  }
}

/** How long the keeper waits for its conmon to be running (it starts before conmon writes its pid file). */
const START_GRACE_MS = 60_000;

function main(argv: string[]): void {
  const [file, maxSize, maxFile, ctl, pidFile, exitFile, readyFile] = argv;
  if (!file || !maxSize || !maxFile || !ctl || !pidFile || !exitFile || !readyFile) return;
  const readPid = (): number => {
    try {
      return Number(readFileSync(pidFile, 'utf8').trim()) || 0;
    } catch {
      return 0; // not yet written
    }
  };
  // The pid file names the previous run's conmon (maybe still running its exit command) until this one's writes it.
  const previous = readPid();
  const started = Date.now();
  let seen = false;
  const alive = (): boolean => {
    // The container is being removed (its directory renamed to a tombstone, or gone): a quick `up` + `down` can end
    // its conmon between two of the keeper's looks, and it would otherwise wait out START_GRACE_MS.
    if (!existsSync(path.dirname(file))) return false;
    if (existsSync(exitFile)) return false; // conmon wrote the container's exit
    const pid = readPid();
    if (pid > 0 && pid !== previous && processRunning(pid)) return (seen = true);
    return !seen && Date.now() - started < START_GRACE_MS;
  };
  const ready = (): void => {
    try {
      writeFileSync(readyFile, '');
    } catch {
      // the start stops waiting after a while anyway
    }
  };
  keepLogs({ file, maxSize: Number(maxSize), maxFile: Number(maxFile), reopen: () => reopenConmonLog(ctl), alive, ready }).catch((e: unknown) => {
    process.stderr.write(`tscompose log keeper: ${(e as Error).message}\n`);
    process.exitCode = 1;
  });
}

// Run as a program: this module, or its bundle (lib/helper-entry.ts).
if (process.argv[1] !== undefined && isHelperEntry(process.argv[1], 'log-keeper')) main(process.argv.slice(2));
