import { expect, test } from '@jest/globals';
import type { PsRow } from '../../engine/query.js';
import { psTemplateText } from './ps-format.js';

const now = Date.UTC(2026, 0, 1, 12);
const row = (name: string, service: string, status: PsRow['status']): PsRow => ({
  id: `${name.length}`.repeat(64),
  name,
  image: 'nginx',
  command: ['nginx', '-g', 'daemon off;'],
  service,
  number: 1,
  project: 'p',
  status,
  state: status,
  health: '',
  exitCode: status === 'exited' ? 2 : 0,
  created: now - 5 * 60_000,
  ports: [{ containerPort: 80, protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 8080 }],
  labels: { a: '1' },
});
const rows = [row('p-web-1', 'web', 'running'), row('p-db-1', 'db', 'exited')];

test('a template per container: fields as docker compose ps names them, tabs kept, no header', () => {
  expect(psTemplateText(rows, '{{.Name}}\\t{{.Status}}', { nowMs: now })).toBe('p-web-1\tUp\np-db-1\tExited (2)\n');
  expect(psTemplateText(rows.slice(0, 1), '{{.Service}} {{.State}} {{.Ports}} {{.RunningFor}} {{.Labels}} {{.ExitCode}}', { nowMs: now })).toBe(
    'web running 0.0.0.0:8080->80/tcp 5 minutes ago a=1 0\n',
  );
});

test('table TEMPLATE: a header row and aligned columns', () => {
  expect(psTemplateText(rows, 'table {{.Name}}\\t{{.Status}}', { nowMs: now })).toBe('NAME      STATUS\np-web-1   Up\np-db-1    Exited (2)\n');
});

test('ID: 12 characters, all of it with --no-trunc; json of the whole context', () => {
  expect(psTemplateText(rows.slice(0, 1), '{{.ID}}', { nowMs: now })).toBe(`${'7'.repeat(12)}\n`);
  expect(psTemplateText(rows.slice(0, 1), '{{.ID}}', { noTrunc: true, nowMs: now })).toBe(`${'7'.repeat(64)}\n`);
  const obj = JSON.parse(psTemplateText(rows.slice(0, 1), '{{json .}}', { nowMs: now })) as Record<string, unknown>;
  expect(obj).toMatchObject({ Name: 'p-web-1', Service: 'web', Status: 'Up', CreatedAt: '2026-01-01 11:55:00 +0000 UTC' });
  expect(obj.Publishers).toEqual([{ URL: '0.0.0.0', TargetPort: 80, PublishedPort: 8080, Protocol: 'tcp' }]);
});

test('an unknown field is an error naming the fields', () => {
  expect(() => psTemplateText(rows, '{{.Nope}}')).toThrow(/can't evaluate field Nope \(fields: ID, Name/);
});

test('Command: quoted, 20 characters unless --no-trunc; in the default table after IMAGE', () => {
  expect(psTemplateText(rows.slice(0, 1), '{{.Command}}', { nowMs: now })).toBe('"nginx -g \'daemon of…"\n');
  expect(psTemplateText(rows.slice(0, 1), '{{.Command}}', { noTrunc: true, nowMs: now })).toBe('"nginx -g \'daemon off;\'"\n');
  expect(psTemplateText(rows.slice(0, 1), 'table', { nowMs: now }).split('\n')[0]).toMatch(
    /^NAME\s+IMAGE\s+COMMAND\s+SERVICE\s+CREATED\s+STATUS\s+PORTS$/,
  );
});
