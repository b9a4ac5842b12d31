import { describe, expect, test } from '@jest/globals';
import { volumesText } from './volumes.js';

const volumes = [
  {
    name: 'shop_db',
    driver: 'local',
    labels: { 'com.docker.compose.volume': 'db', 'com.docker.compose.project': 'shop' },
    mountpoint: '/var/lib/docker/volumes/shop_db/_data',
  },
  { name: 'shop_cache', driver: 'local', labels: {} },
];

describe('volumes output', () => {
  test('the table, names only, one JSON object per line as docker volume ls --format json', () => {
    // docker's tabwriter: columns at least 10 wide, 3 spaces of padding.
    expect(volumesText(volumes, {})).toBe('DRIVER    VOLUME NAME\nlocal     shop_db\nlocal     shop_cache\n');
    expect(volumesText([], {})).toBe('DRIVER    VOLUME NAME\n');
    expect(volumesText(volumes, { quiet: true })).toBe('shop_db\nshop_cache\n');
    const lines = volumesText(volumes, { format: 'json' }).trimEnd().split('\n');
    expect(JSON.parse(lines[0]!)).toEqual({
      Availability: 'N/A',
      Driver: 'local',
      Group: 'N/A',
      Labels: 'com.docker.compose.project=shop,com.docker.compose.volume=db',
      Links: 'N/A',
      Mountpoint: '/var/lib/docker/volumes/shop_db/_data',
      Name: 'shop_db',
      Scope: 'local',
      Size: 'N/A',
      Status: 'N/A',
    });
    expect(JSON.parse(lines[1]!)).toMatchObject({ Name: 'shop_cache', Labels: '', Mountpoint: '' });
  });

  test("Go templates over the same fields, table TEMPLATE with docker's titles, raw", () => {
    expect(volumesText(volumes, { format: '{{.Name}}: {{.Mountpoint}}' })).toBe('shop_db: /var/lib/docker/volumes/shop_db/_data\nshop_cache: \n');
    expect(volumesText(volumes, { format: 'table {{.Name}}\\t{{.Driver}}\\t{{.Scope}}' })).toBe(
      'VOLUME NAME   DRIVER    SCOPE\nshop_db       local     local\nshop_cache    local     local\n',
    );
    expect(volumesText(volumes.slice(0, 1), { format: '{{.Labels}}|{{.Links}}|{{.Size}}' })).toBe(
      'com.docker.compose.project=shop,com.docker.compose.volume=db|N/A|N/A\n',
    );
    expect(volumesText(volumes, { format: 'raw' })).toBe('name: shop_db\ndriver: local\n\nname: shop_cache\ndriver: local\n\n');
    expect(volumesText(volumes, { format: '{{.Name}}', quiet: true })).toBe('shop_db\nshop_cache\n');
    expect(() => volumesText(volumes, { format: '{{.Nope}}' })).toThrow(/can't evaluate field Nope/);
  });
});
