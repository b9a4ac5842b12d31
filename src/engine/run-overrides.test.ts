import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProjectSync } from '../project/load.js';
import type { ServiceConfig } from '../project/types.js';
import { FakeRuntime } from '../runtime/fake/fake-runtime.js';
import { MemorySink } from './events.js';
import { run } from './run.js';
import { applyRunOverrides, runEnvironment } from './run-overrides.js';

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'tsc-run-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('applyRunOverrides', () => {
  const svc = {
    image: 'busybox',
    cap_add: ['NET_ADMIN'],
    cap_drop: ['CHOWN'],
    volumes: [{ type: 'volume', source: 'data', target: '/data' }],
  } as unknown as ServiceConfig;

  test('-v: bind (relative to the project), named, anonymous; a target given again replaces the service mount', () => {
    const out = applyRunOverrides(svc, { volumes: ['./src:/app:ro', 'other:/data', '/cache'], baseDir: '/proj' });
    expect(out.volumes).toEqual([
      { type: 'bind', source: '/proj/src', target: '/app', read_only: true, bind: {} },
      { type: 'volume', source: 'other', target: '/data', volume: {} },
      { type: 'volume', target: '/cache', volume: {} },
    ]);
    expect(() => applyRunOverrides(svc, { volumes: ['a:b:c:d'] })).toThrow(/invalid --volume value: a:b:c:d/);
  });

  test('--cap-add and --cap-drop take the capability out of the other list', () => {
    const out = applyRunOverrides(svc, { capAdd: ['CHOWN', 'SYS_TIME'], capDrop: ['NET_ADMIN'] });
    expect(out.cap_add).toEqual(['CHOWN', 'SYS_TIME']);
    expect(out.cap_drop).toEqual(['NET_ADMIN']);
    expect(applyRunOverrides(svc, {})).toEqual(svc);
  });
});

test('--env-from-file: keys -e did not set, ${VAR} from -e values, an earlier file wins', () => {
  const d = tmp();
  writeFileSync(join(d, 'a.env'), 'A=from-file\nB=${A}-b\nC=c1\n');
  writeFileSync(join(d, 'b.env'), 'C=c2\nD=d\n');
  expect(runEnvironment(['A=cli', 'X'], [join(d, 'a.env'), join(d, 'b.env')])).toEqual(['A=cli', 'X', 'B=cli-b', 'C=c1', 'D=d']);
  expect(runEnvironment(undefined, undefined)).toBeUndefined();
  expect(() => runEnvironment([], [join(d, 'missing.env')])).toThrow(/couldn't find env file/);
});

test('run: the one-off container gets the -v mounts, capabilities and env-file variables; the named volume is made', async () => {
  const d = tmp();
  writeFileSync(join(d, 'compose.yaml'), 'services:\n  app:\n    image: busybox\n    cap_drop: [CHOWN]\nvolumes:\n  cache: {}\n');
  writeFileSync(join(d, 'vars.env'), 'FROM_FILE=1\n');
  const project = loadProjectSync({ cwd: d, env: {}, projectName: 'rr' }).project;
  const rt = new FakeRuntime({ images: { busybox: 'sha256:b0' } });
  const r = await run({ runtime: rt, events: new MemorySink() }, project, 'app', {
    command: ['true'],
    detach: true,
    volumes: ['cache:/cache', './src:/src'],
    capAdd: ['CHOWN'],
    capDrop: ['NET_RAW'],
    env: runEnvironment(['A=1'], [join(d, 'vars.env')]),
    baseDir: d,
  });
  const spec = rt.specOf(r.id);
  expect(spec.capAdd).toEqual(['CHOWN']);
  expect(spec.capDrop).toEqual(['NET_RAW']);
  expect(spec.env).toEqual(expect.arrayContaining(['A=1', 'FROM_FILE=1']));
  expect(spec.mounts).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ type: 'volume', source: 'rr_cache', target: '/cache' }),
      expect.objectContaining({ type: 'bind', source: join(d, 'src'), target: '/src' }),
    ]),
  );
  expect((await rt.listVolumes()).map((v) => v.name)).toContain('rr_cache');
});
