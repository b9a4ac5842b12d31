import { describe, expect, test } from '@jest/globals';
import type { ImageRow } from '../../engine/images.js';
import type { LsRow } from '../../engine/query.js';
import { imagesText, listFormat, lsText } from './project.js';

const projects: LsRow[] = [
  { name: 'shop', status: 'running(2)', configFiles: '/srv/shop/compose.yaml', workingDir: '/srv/shop', running: 2 },
  { name: 'blog', status: 'exited(1)', configFiles: '/srv/blog/compose.yaml', workingDir: '/srv/blog', running: 0 },
];
const images: ImageRow[] = [
  { container: 'shop-web-1', repository: 'nginx', tag: '1.27', id: `sha256:${'a'.repeat(64)}`, sizeBytes: 192_000_000 },
  { container: 'shop-db-1', repository: 'postgres', tag: '16', id: `sha256:${'b'.repeat(64)}`, sizeBytes: undefined },
];

describe('--format of ls and images', () => {
  test('docker compose formatter.Print values: table/pretty/empty (any case), json, {{json.}}; the rest a template', () => {
    for (const f of ['table', 'TABLE', 'pretty', '', undefined]) expect(listFormat(f)).toBe('table');
    expect(listFormat('JSON')).toBe('json');
    expect(listFormat('{{json.}}')).toBe('json-lines');
    expect(listFormat('{{json .}}')).toBe('template');
    expect(listFormat('table {{.Name}}')).toBe('template');
  });

  test('ls: the table, a JSON array, a JSON object per line, templates over Name, Status, ConfigFiles', () => {
    expect(lsText(projects, { format: 'pretty' })).toBe(lsText(projects, {}));
    expect(JSON.parse(lsText(projects, { format: 'json' }))).toEqual([
      { Name: 'shop', Status: 'running(2)', ConfigFiles: '/srv/shop/compose.yaml' },
      { Name: 'blog', Status: 'exited(1)', ConfigFiles: '/srv/blog/compose.yaml' },
    ]);
    expect(lsText(projects, { format: '{{json.}}' })).toBe(
      '{"Name":"shop","Status":"running(2)","ConfigFiles":"/srv/shop/compose.yaml"}\n{"Name":"blog","Status":"exited(1)","ConfigFiles":"/srv/blog/compose.yaml"}\n',
    );
    expect(lsText(projects, { format: '{{.Name}}' })).toBe('shop\nblog\n');
    expect(lsText(projects, { format: 'table {{.Name}}\\t{{.ConfigFiles}}' })).toBe(
      'NAME      CONFIG FILES\nshop      /srv/shop/compose.yaml\nblog      /srv/blog/compose.yaml\n',
    );
    expect(lsText(projects, { format: '{{.Name}}', quiet: true })).toBe('shop\nblog\n');
    expect(() => lsText(projects, { format: '{{.Image}}' })).toThrow(/can't evaluate field Image \(fields: Name, Status, ConfigFiles\)/);
  });

  test('images: templates over ContainerName, Repository, Tag, ID, Size (the JSON fields)', () => {
    expect(imagesText(images, { format: '{{.ContainerName}} {{.Repository}}:{{.Tag}} {{.Size}}' })).toBe(
      'shop-web-1 nginx:1.27 192000000\nshop-db-1 postgres:16 0\n',
    );
    expect(imagesText(images, { format: 'table {{.Repository}}\\t{{.Tag}}' })).toBe('REPOSITORY   TAG\nnginx        1.27\npostgres     16\n');
    expect(imagesText(images, { format: '{{json.}}' }).split('\n')[0]).toBe(
      `{"ContainerName":"shop-web-1","Repository":"nginx","Tag":"1.27","ID":"sha256:${'a'.repeat(64)}","Size":192000000}`,
    );
    expect(JSON.parse(imagesText(images, { format: 'json' }))).toHaveLength(2);
    expect(imagesText(images, { format: 'table' })).toContain('CONTAINER    REPOSITORY   TAG    IMAGE ID       SIZE');
  });
});
