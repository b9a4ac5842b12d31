import { describe, expect, test } from '@jest/globals';
import { parsePortSpec } from './ports.js';

describe('ports', () => {
  test.each([
    ['80', [{ mode: 'ingress', target: 80, protocol: 'tcp' }]],
    ['8080:80', [{ mode: 'ingress', target: 80, published: '8080', protocol: 'tcp' }]],
    ['127.0.0.1:8080:80/udp', [{ mode: 'ingress', host_ip: '127.0.0.1', target: 80, published: '8080', protocol: 'udp' }]],
    ['[::1]:8080:80', [{ mode: 'ingress', host_ip: '::1', target: 80, published: '8080', protocol: 'tcp' }]],
    ['8000-8001:80-81', [
      { mode: 'ingress', target: 80, published: '8000', protocol: 'tcp' },
      { mode: 'ingress', target: 81, published: '8001', protocol: 'tcp' },
    ]],
    ['9000-9010:80', [{ mode: 'ingress', target: 80, published: '9000-9010', protocol: 'tcp' }]],
    ['3000-3001', [
      { mode: 'ingress', target: 3000, protocol: 'tcp' },
      { mode: 'ingress', target: 3001, protocol: 'tcp' },
    ]],
  ])('%s', (spec, want) => expect(parsePortSpec(spec)).toEqual(want));

  test.each(['abc', '1-2:3-5', '80:90:100:x', '70000'])('rejects %s', (spec) => expect(parsePortSpec(spec)).toBeUndefined());
});
