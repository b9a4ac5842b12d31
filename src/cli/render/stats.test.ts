import { expect, test } from '@jest/globals';
import type { StatsRow } from '../../engine/stats.js';
import { bytesSize, statsFields, statsText } from './stats.js';

const row: StatsRow = {
  id: 'a'.repeat(64),
  name: 'st-web-1',
  service: 'web',
  cpuPercent: 25,
  memoryBytes: 10 * 1024 * 1024,
  memoryLimitBytes: 2 * 1024 ** 3 - 1024 ** 2 * 57,
  memoryPercent: 0.5,
  netRxBytes: 1234,
  netTxBytes: 0,
  blockReadBytes: 4096,
  blockWriteBytes: 1_500_000,
  pids: 3,
};

test('bytesSize: go-units BytesSize (binary, 4 significant digits)', () => {
  expect([0, 512, 1024, 10 * 1024 ** 2, 2 * 1024 ** 3 - 57 * 1024 ** 2].map(bytesSize)).toEqual(['0B', '512B', '1KiB', '10MiB', '1.944GiB']);
});

test('the default table: docker stats columns and units', () => {
  const lines = statsText([row], 'table').split('\n');
  expect(lines[0]).toMatch(/^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/);
  expect(lines[1]).toMatch(/^aaaaaaaaaaaa\s+st-web-1\s+25\.00%\s+10MiB \/ 1\.944GiB\s+0\.50%\s+1\.23kB \/ 0B\s+4\.1kB \/ 1\.5MB\s+3$/);
  expect(statsText([row], '')).toBe(statsText([row], 'table'));
});

test('--no-trunc, json lines with docker field names, templates', () => {
  expect(statsFields(row, true).ID).toBe(row.id);
  expect(JSON.parse(statsText([row], 'json'))).toEqual({
    BlockIO: '4.1kB / 1.5MB',
    CPUPerc: '25.00%',
    Container: 'st-web-1',
    ID: 'aaaaaaaaaaaa',
    MemPerc: '0.50%',
    MemUsage: '10MiB / 1.944GiB',
    Name: 'st-web-1',
    NetIO: '1.23kB / 0B',
    PIDs: '3',
  });
  expect(statsText([row], '{{.Name}}: {{.CPUPerc}}')).toBe('st-web-1: 25.00%\n');
  expect(statsText([row], 'table {{.Name}}\\t{{.MemPerc}}')).toBe('NAME       MEM %\nst-web-1   0.50%\n');
});
