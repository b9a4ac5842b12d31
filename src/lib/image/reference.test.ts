import { describe, expect, test } from '@jest/globals';
import { InvalidReferenceError, familiarize, normalizeRef } from './reference.js';

const D = 'sha256:' + 'ab'.repeat(32);

describe('normalizeRef', () => {
  test('Docker Hub names', () => {
    expect(normalizeRef('busybox')).toEqual({
      registry: 'docker.io',
      repository: 'library/busybox',
      tag: 'latest',
      canonical: 'docker.io/library/busybox:latest',
      familiar: 'busybox:latest',
    });
    for (const s of ['busybox:latest', 'docker.io/library/busybox', 'docker.io/busybox:latest', 'index.docker.io/library/busybox', 'library/busybox']) {
      expect(normalizeRef(s).canonical).toBe('docker.io/library/busybox:latest');
    }
    expect(normalizeRef('foo/bar:1').canonical).toBe('docker.io/foo/bar:1');
    expect(normalizeRef('foo/bar:1').familiar).toBe('foo/bar:1');
    expect(normalizeRef('python:3.11-slim').tag).toBe('3.11-slim');
  });

  test('other registries, ports, localhost', () => {
    const r = normalizeRef('127.0.0.1:5001/foo:1');
    expect(r).toMatchObject({ registry: '127.0.0.1:5001', repository: 'foo', tag: '1', familiar: '127.0.0.1:5001/foo:1' });
    expect(normalizeRef('localhost/x').canonical).toBe('localhost/x:latest');
    expect(normalizeRef('localhost:5000/a/b/c').repository).toBe('a/b/c');
    expect(normalizeRef('ghcr.io/org/img:v1').familiar).toBe('ghcr.io/org/img:v1');
    expect(normalizeRef('[::1]:5000/foo').registry).toBe('[::1]:5000');
    // Uppercase first component is a domain.
    expect(normalizeRef('Host/foo').registry).toBe('Host');
  });

  test('digests', () => {
    const r = normalizeRef(`busybox@${D}`);
    expect(r.tag).toBeUndefined();
    expect(r.digest).toBe(D);
    expect(r.canonical).toBe(`docker.io/library/busybox@${D}`);
    expect(r.familiar).toBe(`busybox@${D}`);
    expect(normalizeRef(`busybox:1@${D}`).canonical).toBe(`docker.io/library/busybox:1@${D}`);
    expect(familiarize(`docker.io/library/redis@${D}`)).toBe(`redis@${D}`);
  });

  test('invalid references', () => {
    for (const s of ['', 'Busybox', 'foo/Bar', 'busybox:', 'busybox:-x', 'a b', 'busybox@sha256:xyz', 'ab'.repeat(32), 'foo//bar', '/foo']) {
      expect(() => normalizeRef(s)).toThrow(InvalidReferenceError);
    }
  });
});
