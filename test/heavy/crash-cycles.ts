/**
 * The cycles of the crash test (test/heavy/crash.test.ts), one per command that is killed: how the world is brought
 * into the state the command starts from (`prepare`), what must hold once the same command run again succeeded
 * (`verify`: the command's whole outcome, e.g. exactly one running container per service after `up -d`, an image
 * whose files are those of an uninterrupted pull, build or load), and how a cycle ends (`finish`: a `down`, and the
 * removal of the loaded image). Images are compared by fingerprints (crash-project.ts FINGERPRINT) taken from a run
 * of each command that was not interrupted.
 */
import { request } from 'node:http';
import { FINGERPRINT, LOAD_IMAGE, PULLED_IMAGES, SERVICES } from './crash-project.js';
import { sleep, type CrashEnv } from './crash-env.js';

export const COMMANDS = ['up', 'down', 'build', 'pull', 'load', 'rm'] as const;
export type CrashCommand = (typeof COMMANDS)[number];

export interface Cycle {
  readonly command: CrashCommand;
  /** Whether the command is run with `-p NAME` (project commands) or without (image commands). */
  readonly project: boolean;
  readonly args: readonly string[];
  prepare(): void;
  /** After the command (run again) succeeded, with its stdout. */
  verify(stdout: string): Promise<void>;
  finish(): void;
}

/** What the crash test compares against: fingerprints of uninterrupted results, the volume's marker, the port. */
export class Expectations {
  readonly fingerprints = new Map<keyof typeof FINGERPRINT, string>();
  markerWritten = false;
  constructor(
    readonly marker: string,
    readonly port: number,
    readonly archive: string,
  ) {}
}

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/index.html', timeout: 3000 }, (res) => {
      let b = '';
      res.on('data', (d: Buffer) => (b += d.toString()));
      res.on('end', () => resolve(b));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/** The files of a service's image, seen from a one-off container of it; the first call records, later ones compare. */
export function fingerprint(env: CrashEnv, x: Expectations, svc: keyof typeof FINGERPRINT): void {
  const pre = svc === 'loaded' ? ['--profile', 'load'] : [];
  const out = env.ok(true, ...pre, 'run', '--rm', '--no-deps', '-T', svc, 'sh', '-c', FINGERPRINT[svc]).trim();
  const want = x.fingerprints.get(svc);
  if (want === undefined) x.fingerprints.set(svc, out);
  else if (out !== want) throw new Error(`the image of ${svc} differs from an uninterrupted one:\n--- expected\n${want}\n--- got\n${out}`);
}

export const present = (env: CrashEnv, ref: string): boolean => env.ts(false, 'image', 'inspect', ref).status === 0;

interface PsRow {
  Service: string;
  State: string;
}
const psAll = (env: CrashEnv): PsRow[] =>
  env
    .ok(true, 'ps', '-a', '--format', 'json')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as PsRow);

function expectNoContainers(env: CrashEnv): void {
  const rows = psAll(env);
  if (rows.length > 0) throw new Error(`containers left: ${rows.map((r) => `${r.Service}(${r.State})`).join(' ')}`);
}

export function cycles(env: CrashEnv, x: Expectations): Record<CrashCommand, Cycle> {
  const down = (): void => void env.ok(true, 'down');
  return {
    up: {
      command: 'up',
      project: true,
      args: ['up', '-d'],
      prepare: () => undefined,
      async verify() {
        const rows = psAll(env);
        const got = rows.map((r) => `${r.Service}:${r.State}`).sort();
        const want = SERVICES.map((s) => `${s}:running`);
        if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`after up -d: ${got.join(' ')} (want ${want.join(' ')})`);
        let body = '';
        for (let t = 0; t < 60 && body === ''; t++) body = await get(x.port).catch(async () => (await sleep(250), ''));
        if (body !== 'crash-test\n') throw new Error(`web on 127.0.0.1:${x.port} answered ${JSON.stringify(body)} (${env.networkDiagnosis()})`);
        if (!x.markerWritten) {
          env.ok(true, 'exec', '-T', 'web', 'sh', '-c', `echo ${x.marker} > /data/marker`);
          x.markerWritten = true;
        }
        const mark = env.ok(true, 'exec', '-T', 'worker', 'cat', '/data/marker').trim();
        if (mark !== x.marker) throw new Error(`the volume's marker reads ${JSON.stringify(mark)} (want ${x.marker})`);
      },
      finish: down,
    },
    down: {
      command: 'down',
      project: true,
      args: ['down'],
      prepare: () => void env.ok(true, 'up', '-d'),
      async verify() {
        expectNoContainers(env);
        // the project's networks; container records and other leftovers are the leak check's (after the cycle)
        const left = env.stateLeftovers().filter((l) => l.startsWith(`network ${env.name}_`));
        if (left.length > 0) throw new Error(`after down: ${left.join(', ')}`);
        if (!env.volumeExists()) throw new Error('down (without -v) removed the named volume');
        return Promise.resolve();
      },
      finish: down,
    },
    rm: {
      command: 'rm',
      project: true,
      args: ['rm', '-f', '-s'],
      prepare: () => void env.ok(true, 'up', '-d'),
      async verify() {
        expectNoContainers(env);
        return Promise.resolve();
      },
      finish: down,
    },
    build: {
      command: 'build',
      project: true,
      args: ['build'],
      prepare() {
        if (present(env, `${env.name}-app`)) env.ok(false, 'image', 'rm', `${env.name}-app`);
        env.ok(false, 'builder', 'prune', '-f');
      },
      async verify() {
        fingerprint(env, x, 'app');
        return Promise.resolve();
      },
      finish: down,
    },
    pull: {
      command: 'pull',
      project: true,
      args: ['pull'],
      prepare() {
        const there = PULLED_IMAGES.filter((i) => present(env, i));
        if (there.length > 0) env.ok(false, 'image', 'rm', ...there);
      },
      async verify() {
        for (const i of PULLED_IMAGES) if (!present(env, i)) throw new Error(`after pull: no ${i}`);
        fingerprint(env, x, 'worker');
        fingerprint(env, x, 'cache');
        return Promise.resolve();
      },
      finish: down,
    },
    load: {
      command: 'load',
      project: false,
      args: ['image', 'load', '-i', x.archive],
      prepare() {
        if (present(env, LOAD_IMAGE)) env.ok(false, 'image', 'rm', LOAD_IMAGE);
      },
      async verify(stdout) {
        if (!stdout.includes(`Loaded image: ${LOAD_IMAGE}`)) throw new Error(`image load printed ${JSON.stringify(stdout)}`);
        fingerprint(env, x, 'loaded');
        return Promise.resolve();
      },
      finish() {
        down();
        env.ok(false, 'image', 'rm', LOAD_IMAGE);
      },
    },
  };
}
