import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { dnsSetNetwork } from './control.js';
import { DnsConfigError, DnsResolverError } from './errors.js';
import { parseExtraHost } from './files.js';

describe('DNS library errors', () => {
  it('a malformed extra_hosts item is a DnsConfigError', () => {
    expect(() => parseExtraHost('nohost')).toThrow(DnsConfigError);
    expect(() => parseExtraHost('nohost')).toThrow(expect.objectContaining({ code: 'TSC_DNS_INVALID' }) as never);
  });

  it('an invalid network is refused before anything starts; a missing resolver entry is a DnsResolverError', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tsc-dnserr-'));
    try {
      const net = { network: 'n', gateway: 'nope', upstreams: [], entries: [] };
      await expect(dnsSetNetwork(dir, net)).rejects.toThrow(DnsConfigError);
      const err = await dnsSetNetwork(dir, { ...net, gateway: '10.214.250.1' }, { entry: path.join(dir, 'missing.js') }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DnsResolverError);
      expect(err).toMatchObject({ code: 'TSC_DNS_RESOLVER', hint: expect.stringMatching(/npm run build/) as unknown as string });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
