import { describe, expect, it } from '@jest/globals';
import * as net from 'node:net';
import { NetworkError } from './errors.js';
import {
  checkProtocolSupported,
  ephemeralRange,
  hostPortFree,
  hostPortsInUse,
  parseProcNetPorts,
  parseSctpEps,
  pickPortInRange,
  sctpSupported,
} from './host-ports.js';

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 217 1 0 100 0 0 10 0
   1: 0100007F:1389 0100007F:A000 01 00000000:00000000 00:00000000 00000000   102        0 8878 1 0 100 0 0 10 0
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue
   0: 00000000000000000000000001000000:2328 00000000000000000000000000000000:0000 0A 00000000:00000000
`;
const UDP = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  100: 00000000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1 2 0 0
`;
const SCTP = ` ENDPT     SOCK   STY SST HBKT LPORT   UID INODE LADDRS
ffff8880 ffff8881 2   10  29   9000      0 12345 10.0.0.1
`;

describe('host ports', () => {
  it('parses /proc/net tables: tcp listeners only, every udp socket, sctp endpoints', () => {
    expect([...parseProcNetPorts(TCP, 'tcp')]).toEqual([8080]);
    expect([...parseProcNetPorts(TCP6, 'tcp')]).toEqual([9000]);
    expect([...parseProcNetPorts(UDP, 'udp')]).toEqual([53]);
    expect([...parseSctpEps(SCTP)]).toEqual([9000]);
    expect([...parseProcNetPorts('', 'tcp')]).toEqual([]);
  });

  it('sees a listening socket and skips it when picking from a range', async () => {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as net.AddressInfo).port;
    try {
      expect((await hostPortsInUse('tcp')).has(port)).toBe(true);
      expect(await hostPortFree('tcp', port, '127.0.0.1')).toBe(false);
      const picked = await pickPortInRange('tcp', { start: port, end: port + 20 }, '127.0.0.1');
      expect(picked).toBeGreaterThan(port);
      expect(picked).toBeLessThanOrEqual(port + 20);
      // Ports another endpoint publishes (no socket) are skipped too.
      expect(await pickPortInRange('tcp', { start: port, end: port + 20 }, '127.0.0.1', new Set([picked]))).not.toBe(picked);
      await expect(pickPortInRange('tcp', { start: port, end: port }, '127.0.0.1')).rejects.toThrow(/no free host port in 127\.0\.0\.1:\d+-\d+\/tcp/);
    } finally {
      await new Promise((r) => s.close(r));
    }
  });

  it('the ephemeral range', async () => {
    const r = await ephemeralRange();
    expect(r.start).toBeGreaterThan(1023);
    expect(r.end).toBeGreaterThanOrEqual(r.start);
  });
});

describe('sctp', () => {
  it('is refused with a typed error on a kernel without SCTP, never published as tcp', () => {
    if (sctpSupported()) expect(() => checkProtocolSupported('sctp')).not.toThrow();
    else expect(() => checkProtocolSupported('sctp')).toThrow(NetworkError);
    expect(() => checkProtocolSupported('tcp')).not.toThrow();
  });
});
