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
    expect(volumesText(volumes, {})).toBe('DRIVER   VOLUME NAME\nlocal    shop_db\nlocal    shop_cache\n');
    expect(volumesText([], {})).toBe('DRIVER   VOLUME NAME\n');
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
});
