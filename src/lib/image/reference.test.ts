import { describe, expect, test } from '@jest/globals';
import { InvalidReferenceError } from './errors.js';
import { familiarize, isValidDigest, isValidReference, normalizeRef, parseReference, splitReference, withDefaultTag } from './reference.js';

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
    for (const s of [
      'busybox:latest',
      'docker.io/library/busybox',
      'docker.io/busybox:latest',
      'index.docker.io/library/busybox',
      'library/busybox',
    ]) {
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

  test('invalid domains and names', () => {
    for (const s of [
      'host:port/foo',
      'host:/foo',
      '[::1/foo',
      '[::g]:5000/foo',
      '-host.io/foo',
      'host-.io/foo',
      ' busybox',
      'busybox ',
      'foo/bar/',
      'foo__-bar',
      'foo..bar',
    ]) {
      expect(() => normalizeRef(s)).toThrow(InvalidReferenceError);
    }
    expect(normalizeRef('[2001:db8::1]/foo').registry).toBe('[2001:db8::1]');
    expect(normalizeRef('foo:1/bar').registry).toBe('foo:1');
    expect(normalizeRef('a-b/c_d.e').repository).toBe('a-b/c_d.e');
    expect(() => normalizeRef('a-b.c_d/e')).toThrow('invalid registry');
    expect(normalizeRef('a__b---c.d_e').repository).toBe('library/a__b---c.d_e');
    expect(() => normalizeRef(`a/${'b'.repeat(250)}`)).toThrow(/too long/);
    expect(normalizeRef(`a/${'b'.repeat(240)}`).repository).toHaveLength(242);
  });

  test('tags: a word character first, at most 128', () => {
    expect(normalizeRef('a:_x.Y-1').tag).toBe('_x.Y-1');
    expect(normalizeRef(`a:${'t'.repeat(128)}`).tag).toHaveLength(128);
    for (const s of [`a:${'t'.repeat(129)}`, 'a:.x', 'a:x/y', 'a:x+y']) expect(() => normalizeRef(s)).toThrow(InvalidReferenceError);
  });
});

describe('digests', () => {
  test('algorithm:encoded; registered algorithms want lowercase hex of their length', () => {
    expect(isValidDigest(D)).toBe(true);
    expect(isValidDigest('sha512:' + 'a'.repeat(128))).toBe(true);
    expect(isValidDigest('sha384:' + 'a'.repeat(96))).toBe(true);
    expect(isValidDigest('multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8')).toBe(true);
    expect(isValidDigest('sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564')).toBe(true);
    for (const d of [
      'sha256:' + 'A'.repeat(64),
      'sha256:' + 'a'.repeat(63),
      'sha512:' + 'a'.repeat(64),
      'SHA256:' + 'a'.repeat(64),
      'sha256',
      ':abc',
      'sha256:',
      'sha-:abc',
      'foo:a+b',
    ]) {
      expect(isValidDigest(d)).toBe(false);
    }
    expect(normalizeRef('a@sha512:' + 'b'.repeat(128)).digest).toBe('sha512:' + 'b'.repeat(128));
  });
});

describe('parseReference, splitReference, withDefaultTag', () => {
  test('parseReference validates and normalises but adds no tag', () => {
    expect(parseReference('busybox')).toEqual({
      registry: 'docker.io',
      repository: 'library/busybox',
      canonical: 'docker.io/library/busybox',
      familiar: 'busybox',
    });
    expect(parseReference('foo/bar:1').canonical).toBe('docker.io/foo/bar:1');
    expect(() => parseReference('Foo')).toThrow('repository name must be lowercase');
    expect(isValidReference('localhost:5000/a:b')).toBe(true);
    expect(isValidReference('a:')).toBe(false);
  });

  test('splitReference cuts at the separators without validating', () => {
    expect(splitReference('busybox')).toEqual({ name: 'busybox' });
    expect(splitReference('host:5000/a/b:1')).toEqual({ name: 'host:5000/a/b', tag: '1' });
    expect(splitReference('host:5000/a')).toEqual({ name: 'host:5000/a' });
    expect(splitReference(`a:1@${D}`)).toEqual({ name: 'a', tag: '1', digest: D });
    expect(splitReference(`a@${D}`)).toEqual({ name: 'a', digest: D });
    expect(splitReference('Foo:x')).toEqual({ name: 'Foo', tag: 'x' });
  });

  test('withDefaultTag', () => {
    expect(withDefaultTag('busybox')).toBe('busybox:latest');
    expect(withDefaultTag('host:5000/a')).toBe('host:5000/a:latest');
    expect(withDefaultTag('a:1')).toBe('a:1');
    expect(withDefaultTag(`a@${D}`)).toBe(`a@${D}`);
  });
});
