/**
 * The key table against the loader's schema (a service key added to schemas/compose-spec.json fails here until the
 * table says what each runtime does with it), against README's copy, and the warnings `up` gives from it.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadProjectSync } from '../project/load.js';
import type { Project } from '../project/types.js';
import { FakeRuntime } from '../runtime/fake/fake-runtime.js';
import { MemorySink } from './events.js';
import { SERVICE_KEYS, keySupportWarnings, keyTableMarkdown } from './key-support.js';
import { up } from './up.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const schema = JSON.parse(readFileSync(join(root, 'schemas', 'compose-spec.json'), 'utf8')) as {
  $defs: { service: { properties: Record<string, unknown> } };
};

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function load(yaml: string): Project {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-keys-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'compose.yaml'), yaml);
  return loadProjectSync({ cwd: dir, env: {}, projectName: 'demo' }).project;
}

describe('the service key table', () => {
  test('has exactly the service keys of the schema the loader validates with', () => {
    const schemaKeys = Object.keys(schema.$defs.service.properties).sort();
    const tableKeys = Object.keys(SERVICE_KEYS).sort();
    expect(schemaKeys.filter((k) => !tableKeys.includes(k))).toEqual([]); // a new key: say what each runtime does with it
    expect(tableKeys.filter((k) => !schemaKeys.includes(k))).toEqual([]);
  });

  test('says yes, partial: <what>, warn or n/a for each runtime', () => {
    for (const [key, e] of Object.entries(SERVICE_KEYS))
      for (const s of [e.docker, e.native]) expect(`${key}: ${s}`).toMatch(/^[a-z_0-9]+: (yes|warn|n\/a|partial: .+)$/);
  });

  test('is in README.md between the keys markers (node scripts/key-table.mjs after a build rewrites it)', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const section = /<!-- keys:start -->\n([\s\S]*?)\n<!-- keys:end -->/.exec(readme);
    expect(section?.[1]).toEqual(keyTableMarkdown());
  });
});

describe('keySupportWarnings', () => {
  const project = load(`
services:
  a:
    image: alpine
    pid: "service:b"
    uts: "service:b"
    tty: true
    group_add: [audio]
    gpus: all
    storage_opt: {size: 1G}
    logging: {driver: syslog}
    use_api_socket: true
    attach: true
  b:
    image: alpine
    logging: {driver: json-file, options: {max-size: 10m, compress: "true"}}
    networks:
      default: {interface_name: eth7}
    volumes:
      - {type: volume, source: v, target: /v, volume: {subpath: sub}}
volumes: {v: {}}
`);

  test('native: each key it ignores, naming the key, the service and the runtime', () => {
    expect(keySupportWarnings('native', project, ['a', 'b'])).toEqual([
      'service "a": gpus "all" is ignored on the native runtime: GPUs are not given to native containers',
      'service "a": logging is not fully honoured on the native runtime: log driver syslog is not available, the log is kept in a file',
      'service "a": storage_opt is ignored on the native runtime: overlay storage options are not applied',
      'service "a": use_api_socket true is ignored on the native runtime: the engine API socket is not mounted',
      'service "b": logging is not fully honoured on the native runtime: log options (compress) are not applied',
    ]);
  });

  test('docker (and the fake runtime, which takes its column): only what Docker does not do', () => {
    const docker = keySupportWarnings('docker', project, ['a', 'b']);
    expect(docker).toEqual([
      'service "a": use_api_socket true is ignored on the docker runtime: the engine API socket is not mounted',
      'service "a": uts "service:b" is not fully honoured on the docker runtime: the Docker Engine has no UTS mode joining another container',
    ]);
    expect(keySupportWarnings('fake', project, ['a', 'b'])).toEqual(docker);
  });

  test('only the services given', () => {
    expect(keySupportWarnings('native', project, ['b'])).toHaveLength(1);
  });

  test('up reports them as warnings before it creates anything', async () => {
    const events = new MemorySink();
    const p = load(`
services:
  web:
    image: nginx
    cpu_count: 2
    attach: false
`);
    await up({ runtime: new FakeRuntime({ images: { nginx: 'sha256:1111' } }), events }, p);
    const warnings = events.events.filter((e) => e.status === 'warning').map((e) => e.details);
    expect(warnings).toEqual([
      'service "web": attach false is ignored on the docker runtime: the logs of the service are attached anyway',
      'service "web": cpu_count 2 is ignored on the docker runtime: Windows containers only',
    ]);
  });
});
