import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { loadProjectSync } from '../project/load.js';
import { InvalidPortConfigError } from '../project/ports.js';
import type { Project } from '../project/types.js';
import { containerSpec, portBindings } from './container-spec.js';
import { runSpec } from './run.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function load(yaml: string): Project {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-spec-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'compose.yaml'), yaml);
  return loadProjectSync({ cwd: dir, env: {}, projectName: 'demo' }).project;
}

const PROJECT = `
services:
  web:
    image: busybox
    ports:
      - "127.0.0.1:9000-9010:80"
      - "5353:53/udp"
      - "8000-8001:80-81"
      - "7/sctp"
      - target: 443
        published: "9443"
        host_ip: "::1"
`;

describe('published ports reach the runtime port typed', () => {
  test('compose ports → PortBinding (a host range onto one port stays a range; pairwise ranges are single ports)', () => {
    const project = load(PROJECT);
    const spec = containerSpec({ project, service: 'web', svc: project.services.web!, name: 'demo-web-1', labels: {} });
    expect(spec.ports).toEqual([
      { containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: { start: 9000, end: 9010 } },
      { containerPort: 53, protocol: 'udp', hostPort: { start: 5353, end: 5353 } },
      { containerPort: 80, protocol: 'tcp', hostPort: { start: 8000, end: 8000 } },
      { containerPort: 81, protocol: 'tcp', hostPort: { start: 8001, end: 8001 } },
      { containerPort: 7, protocol: 'sctp' },
      { containerPort: 443, protocol: 'tcp', hostIp: '::1', hostPort: { start: 9443, end: 9443 } },
    ]);
  });

  test('an invalid long-form protocol is a typed error, never tcp', () => {
    expect(() => portBindings([{ mode: 'ingress', target: 80, protocol: 'icmp' }])).toThrow(InvalidPortConfigError);
  });

  test('run -p uses the same parser; --service-ports adds the service ports', () => {
    const project = load(PROJECT);
    const svc = project.services.web!;
    const spec = runSpec(project, 'web', svc, 'demo-web-run-x', 'x', { publish: ['127.0.0.1:9000-9010:80', '[::1]::53/udp', '7000-7001:70-71'] });
    expect(spec.ports).toEqual([
      { containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: { start: 9000, end: 9010 } },
      { containerPort: 53, protocol: 'udp', hostIp: '::1' },
      { containerPort: 70, protocol: 'tcp', hostPort: { start: 7000, end: 7000 } },
      { containerPort: 71, protocol: 'tcp', hostPort: { start: 7001, end: 7001 } },
    ]);
    expect(runSpec(project, 'web', svc, 'n', 'x', {}).ports).toBeUndefined();
    expect(runSpec(project, 'web', svc, 'n', 'x', { servicePorts: true, publish: ['1:2'] }).ports).toHaveLength(7);
    expect(() => runSpec(project, 'web', svc, 'n', 'x', { publish: ['1-2:3-5'] })).toThrow(UsageError);
    expect(() => runSpec(project, 'web', svc, 'n', 'x', { publish: ['80/icmp'] })).toThrow(/--publish: invalid port "80\/icmp": invalid protocol/);
  });
});

describe('secrets and configs as files', () => {
  const yaml = `
services:
  web:
    image: busybox
    secrets:
      - source: token
        target: tok
        mode: 0400
        uid: "1000"
        gid: "1001"
    configs: [plain, conf]
secrets:
  token:
    environment: MY_TOKEN
configs:
  plain:
    content: inline
  conf:
    environment: NOT_SET_ANYWHERE
`;

  test('environment sources come from the loaded project, never the process environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsc-spec-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'compose.yaml'), yaml.replace('[plain, conf]', '[plain]'));
    writeFileSync(join(dir, '.env'), 'MY_TOKEN=from-dotenv\n');
    process.env.MY_TOKEN = 'from-process';
    try {
      const project = loadProjectSync({ cwd: dir, env: {}, projectName: 'demo' }).project;
      const spec = containerSpec({ project, service: 'web', svc: project.services.web!, name: 'demo-web-1', labels: {} });
      expect(spec.files).toEqual([
        { target: '/run/secrets/tok', content: 'from-dotenv', mode: 0o400, uid: 1000, gid: 1001 },
        { target: '/plain', content: 'inline' },
      ]);
    } finally {
      delete process.env.MY_TOKEN;
    }
  });

  test('an unset environment source is a usage error naming the variable', () => {
    const project = load(yaml);
    expect(() => containerSpec({ project, service: 'web', svc: project.services.web!, name: 'demo-web-1', labels: {} })).toThrow(UsageError);
    expect(() => containerSpec({ project, service: 'web', svc: project.services.web!, name: 'demo-web-1', labels: {} })).toThrow(
      'environment variable "MY_TOKEN" required by file "token" is not set',
    );
  });
});
