import { describe, expect, test } from '@jest/globals';
import { containerName, dependsOnLabel, networkName, oneoffContainerName, parseDependsOnLabel, serviceImage, volumeName } from './labels.js';

describe('compose names and labels', () => {
  test('names', () => {
    expect(containerName('p', 'web', 2)).toBe('p-web-2');
    expect(containerName('p', 'web', 1, { container_name: 'mine' })).toBe('mine');
    expect(oneoffContainerName('p', 'web', '0123456789abcdef')).toBe('p-web-run-0123456789ab');
    expect(networkName('p', 'default')).toBe('p_default');
    expect(networkName('p', 'ext', { external: true, ipam: {} })).toBe('ext');
    expect(networkName('p', 'n', { name: 'custom', ipam: {} })).toBe('custom');
    expect(volumeName('p', 'data', {})).toBe('p_data');
    expect(volumeName('p', 'data', { external: true })).toBe('data');
    expect(serviceImage('p', 'app', {})).toBe('p-app');
    expect(serviceImage('p', 'app', { image: 'x:1' })).toBe('x:1');
  });

  test('depends_on label', () => {
    const label = dependsOnLabel({
      depends_on: { redis: { condition: 'service_started', required: true }, db: { condition: 'service_healthy', required: true, restart: true } },
      links: ['cache:c'],
    });
    expect(label).toBe('cache:service_started:true,db:service_healthy:true,redis:service_started:false');
    expect(parseDependsOnLabel(label)).toEqual([
      { service: 'cache', condition: 'service_started', restart: true },
      { service: 'db', condition: 'service_healthy', restart: true },
      { service: 'redis', condition: 'service_started', restart: false },
    ]);
    expect(parseDependsOnLabel('')).toEqual([]);
  });
});
