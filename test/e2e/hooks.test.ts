/**
 * End-to-end: lifecycle hooks (issue 17 item 3) on Docker and on the native runtime, the same scenario on each.
 * A post_start hook runs as the given user, with its environment and working directory, after `up -d`; its output
 * shows in the progress as compose's `app-1 -> | line`. A pre_stop hook runs on `down`, writing to a named volume
 * that outlives the container. A failing post_start hook makes `up` fail with compose's message.
 *
 * Native: run under `flock -s /tmp/tscompose-native.lock` like the other native suites.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { SpawnSyncReturns } from 'node:child_process';
import { statSync } from 'node:fs';
import { Projects, engine, required, requireEngine, tsc } from './helpers.js';
import { capable, nativeDescribe, NativeSuite } from './native-harness.js';

interface Driver {
  project(files: Record<string, string>): { readonly dir: string; readonly name: string };
  ts(p: { readonly dir: string; readonly name: string }, ...args: string[]): SpawnSyncReturns<string>;
}

const ok = (r: SpawnSyncReturns<string>): string => {
  if (r.status !== 0) throw new Error(`exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
};

const HOOKS = `services:
  app:
    image: busybox:latest
    command: ["sleep", "3600"]
    init: true
    volumes: [data:/data]
    post_start:
      - command: sh -c 'mkdir -p /data/w && chown nobody /data/w && echo hook-ran'
      - command: sh -c 'echo "$$(id -u) $$GREETING $$(pwd)" > /data/w/post_start'
        user: nobody
        working_dir: /tmp
        environment:
          GREETING: hello
    pre_stop:
      - command: sh -c 'echo "stopping $$PHASE $$(id -u)" > /data/pre_stop'
        environment: [PHASE=down]
volumes:
  data: {}
`;

const FAILING = `services:
  app:
    image: busybox:latest
    command: ["sleep", "3600"]
    init: true
    post_start:
      - command: sh -c 'echo progress; echo "it broke" >&2; exit 3'
`;

function scenario(d: Driver): void {
  test('post_start runs after up -d with its user, environment and working_dir; pre_stop runs on down', () => {
    const p = d.project({ 'compose.yaml': HOOKS });
    const hostNull = statSync('/dev/null');
    const up = d.ts(p, 'up', '-d');
    ok(up);
    // A hook run as another user leaves the host's /dev/null alone (crun chowned it when handed as the stdin).
    const after = statSync('/dev/null');
    expect([after.uid, after.gid]).toEqual([hostNull.uid, hostNull.gid]);
    expect(up.stderr).toContain(`Container ${p.name}-app-1  Running post_start hook`);
    expect(up.stderr).toContain('app-1 -> | hook-ran');
    expect(ok(d.ts(p, 'exec', '-T', 'app', 'cat', '/data/w/post_start')).trim()).toBe('65534 hello /tmp');

    const down = d.ts(p, 'down', '-t', '1');
    ok(down);
    expect(down.stderr).toContain(`Container ${p.name}-app-1  Running pre_stop hook`);
    // The volume outlived the container: a new one reads what the hook wrote.
    ok(d.ts(p, 'up', '-d'));
    expect(ok(d.ts(p, 'exec', '-T', 'app', 'cat', '/data/pre_stop')).trim()).toBe('stopping down 0');
    ok(d.ts(p, 'down', '-v', '-t', '1'));
  });

  test("a failing post_start hook fails up with compose's message", () => {
    const p = d.project({ 'compose.yaml': FAILING });
    const up = d.ts(p, 'up', '-d');
    expect(up.status).not.toBe(0);
    expect(up.stderr).toContain('app hook exited with status 3: it broke');
    expect(up.stderr).toContain('app-1 -> | progress');
    ok(d.ts(p, 'down', '-t', '0'));
  });
}

const projects = new Projects();
const dockerRun = engine || required ? describe : describe.skip;
dockerRun('hooks e2e: docker', () => {
  beforeAll(requireEngine);
  afterAll(() => projects.cleanup());
  scenario({ project: (files) => projects.create(files), ts: (p, ...args) => tsc(p, ...args) });
});

const nativeRun = nativeDescribe ? describe : describe.skip;
nativeRun('hooks e2e: native', () => {
  const suite = new NativeSuite();
  beforeAll(() => {
    if (required && !capable) throw new Error('TSCOMPOSE_E2E=1 but the native runtime cannot run here (root, conmon and runc/crun needed)');
  });
  afterAll(() => {
    if (capable) suite.cleanup();
  }, 120_000);
  scenario({ project: (files) => suite.project(files), ts: (p, ...args) => suite.ts(p, ...args) });
});
