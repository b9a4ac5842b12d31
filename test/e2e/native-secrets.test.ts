/**
 * End-to-end: secrets and configs at rest on the native runtime (issue 13 item 2). In the container, each file has
 * the content, mode, uid and gid the compose file gives and is read-only; an `environment:` secret comes from the
 * project's .env file, not the CLI's environment. On the host, the state and run directories are 0700 and no file
 * holding a secret's content is readable by another user: records keep none, and the copies sit in 0700 directories.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { chmodSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { required } from './helpers.js';
import { capable, nativeDescribe, NativeSuite, ok, type NativeProject } from './native-harness.js';
import { secretsFixture } from './secrets-project.js';

const run = nativeDescribe ? describe : describe.skip;
const suite = new NativeSuite();
const stateRoot = join(suite.stateDir, 'state');
const runRoot = join(suite.stateDir, 'run');

beforeAll(() => {
  if (required && !capable) throw new Error('TSCOMPOSE_E2E=1 but the native runtime cannot run here (root, conmon and runc/crun needed)');
});
afterAll(() => {
  if (capable) suite.cleanup();
}, 120_000);

/** Regular files under `dir` (symlinks not followed; mount points of other file systems, e.g. a rootfs, walked). */
function* walk(dir: string): Generator<string> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const p = join(dir, n);
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory()) yield* walk(p);
    else if (st.isFile() && st.size < 4 * 1024 * 1024) yield p;
  }
}

/** Whether a user other than the owner can reach and read `file`: o+r on it and o+x on every directory up to `top`. */
function otherCanRead(file: string, top: string): boolean {
  if ((statSync(file).mode & 0o004) === 0) return false;
  for (let d = dirname(file); ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) return false;
    if (d === top || d === dirname(d)) return true;
  }
}

run('native secrets e2e', () => {
  const fx = secretsFixture('busybox:latest');
  let p: NativeProject;
  const sh = (cmd: string): string => ok(suite.ts(p, 'exec', '-T', 'app', 'sh', '-c', cmd)).trim();

  test('in the container: content, mode, uid and gid as the compose file gives; read-only; the .env value', () => {
    expect(suite.env.TSC_E2E_SECRET).toBeUndefined();
    p = suite.project(fx.files);
    ok(suite.ts(p, 'up', '-d'));
    for (const [path, want] of Object.entries(fx.expected)) {
      expect(`${path}: ${sh(`stat -c '%a %u %g' ${path}`)}`).toBe(`${path}: ${want.stat}`);
      expect(sh(`cat ${path}`)).toBe(want.content);
    }
    expect(suite.ts(p, 'exec', '-T', 'app', 'sh', '-c', 'echo x > /run/secrets/from_env').status).not.toBe(0);
    expect(suite.ts(p, 'exec', '-T', 'app', 'sh', '-c', 'echo x > /run/secrets/plain_file').status).not.toBe(0);
    // A user of the container reads what its mode lets it.
    expect(ok(suite.ts(p, 'exec', '-T', '-u', '1000:1000', 'app', 'cat', '/run/secrets/from_env')).trim()).toBe(fx.envSecret);
    expect(suite.ts(p, 'exec', '-T', '-u', '2000:2000', 'app', 'cat', '/run/secrets/from_env').status).not.toBe(0);
    // `config` shows the variable's name, never its value.
    const cfg = ok(suite.ts(p, 'config'));
    expect(cfg).toContain('environment: TSC_E2E_SECRET');
    expect(cfg).not.toContain(fx.envSecret);
  }, 300_000);

  test('on the host: state and run directories 0700, no secret in records, none readable by another user', () => {
    expect(statSync(stateRoot).mode & 0o077).toBe(0);
    expect(statSync(runRoot).mode & 0o077).toBe(0);
    const holders: string[] = [];
    for (const top of [stateRoot, runRoot]) {
      for (const f of walk(top)) {
        const text = readFileSync(f);
        if (text.includes(fx.envSecret) || text.includes(fx.fileSecret)) holders.push(f);
      }
    }
    const rel = holders.map((h) => relative(stateRoot, h)).sort();
    // Only the copies the container binds: the environment secret and the owned copy of the file secret.
    expect(rel).toHaveLength(2);
    for (const r of rel) expect(r).toMatch(/^containers\/[0-9a-f]{64}\/files\/\d+$/);
    for (const h of holders) {
      expect(statSync(dirname(h)).mode & 0o777).toBe(0o700);
      expect(otherCanRead(h, stateRoot)).toBe(false);
    }
    const [record] = [...walk(join(stateRoot, 'containers'))].filter((f) => f.endsWith('record.json'));
    expect(readFileSync(record!, 'utf8')).not.toContain(fx.envSecret);
  });

  test('a state directory left open is tightened by the next command that writes', () => {
    chmodSync(stateRoot, 0o755);
    ok(suite.ts(p, 'restart'));
    expect(statSync(stateRoot).mode & 0o777).toBe(0o700);
    expect(sh('cat /run/secrets/from_env')).toBe(fx.envSecret);
  }, 120_000);

  test('an environment: secret whose variable is set nowhere fails at create, naming it', () => {
    const q = suite.project({
      'compose.yaml': 'services:\n  app:\n    image: busybox:latest\n    secrets: [s]\nsecrets:\n  s:\n    environment: TSC_E2E_UNSET\n',
    });
    const r = suite.ts(q, 'up', '-d');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('environment variable "TSC_E2E_UNSET" required by file "s" is not set');
  }, 120_000);
});
