/** compose `blkio_config` in the OCI spec (./blkio.ts through buildOciSpec), and the host's block-IO support. */
import { afterEach, describe, expect, test } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errOf, input } from './__fixtures__/spec-input.js';
import { blkioSupport, blockDeviceNumbers } from './blkio.js';
import { buildOciSpec } from './oci-spec.js';

const devices: Record<string, { major: number; minor: number }> = { '/dev/sda': { major: 8, minor: 0 }, '/dev/vdb': { major: 254, minor: 16 } };
const blockDevice = (p: string): { major: number; minor: number } => {
  const d = devices[p];
  if (!d) throw new Error(`no device ${p}`);
  return d;
};

describe('withBlockIO', () => {
  test('weight, weight_device and the four throttles, by major:minor', () => {
    const s = buildOciSpec(
      input(
        {
          resources: {
            blkio: {
              weight: 300,
              weightDevice: [{ path: '/dev/sda', value: 400 }],
              deviceReadBps: [{ path: '/dev/sda', value: 1048576 }],
              deviceWriteBps: [{ path: '/dev/vdb', value: 2097152 }],
              deviceReadIops: [{ path: '/dev/sda', value: 100 }],
              deviceWriteIops: [{ path: '/dev/vdb', value: 200 }],
            },
          },
        },
        { blockDevice },
      ),
    );
    expect(s.linux.resources?.blockIO).toEqual({
      weight: 300,
      weightDevice: [{ major: 8, minor: 0, weight: 400 }],
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
      throttleWriteBpsDevice: [{ major: 254, minor: 16, rate: 2097152 }],
      throttleReadIOPSDevice: [{ major: 8, minor: 0, rate: 100 }],
      throttleWriteIOPSDevice: [{ major: 254, minor: 16, rate: 200 }],
    });
  });

  test('none given: no blockIO', () => {
    expect(buildOciSpec(input()).linux.resources?.blockIO).toBeUndefined();
  });

  test("weights the kernel cannot apply are discarded (Docker's warning case), throttles kept", () => {
    const s = buildOciSpec(
      input(
        { resources: { blkio: { weight: 300, weightDevice: [{ path: '/dev/sda', value: 400 }], deviceReadBps: [{ path: '/dev/sda', value: 1 }] } } },
        { blockDevice, blkioSupport: { weight: false, weightDevice: false, throttle: true } },
      ),
    );
    expect(s.linux.resources?.blockIO).toEqual({ throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1 }] });
    const none = buildOciSpec(
      input({ resources: { blkio: { weight: 300 } } }, { blkioSupport: { weight: false, weightDevice: false, throttle: false } }),
    );
    expect(none.linux.resources?.blockIO).toBeUndefined();
    // discarded before any check, as Docker does (`--blkio-weight 5` on such a host: only the warning)
    const unchecked = buildOciSpec(
      input(
        { resources: { blkio: { weight: 5, deviceReadBps: [{ path: '/dev/no-such-disk', value: 1 }] } } },
        { blkioSupport: { weight: false, weightDevice: false, throttle: false } },
      ),
    );
    expect(unchecked.linux.resources?.blockIO).toBeUndefined();
  });

  test("Docker's weight range 10..1000; a device that does not exist", () => {
    expect(errOf(() => buildOciSpec(input({ resources: { blkio: { weight: 5 } } }))).message).toBe('Range of blkio weight is from 10 to 1000');
    expect(
      errOf(() => buildOciSpec(input({ resources: { blkio: { weightDevice: [{ path: '/dev/sda', value: 2000 }] } } }, { blockDevice }))).code,
    ).toBe('TSC_INVALID_RESOURCES');
    const e = errOf(() => buildOciSpec(input({ resources: { blkio: { deviceReadBps: [{ path: '/dev/no-such-disk', value: 1 }] } } })));
    expect(e.code).toBe('TSC_INVALID_RESOURCES');
    expect(e.message).toBe('blkio_config: /dev/no-such-disk: no such file or directory');
  });
});

describe('block devices and host support', () => {
  test('blockDeviceNumbers: major:minor of a device node (/dev/null is 1:3)', () => {
    expect(blockDeviceNumbers('/dev/null')).toEqual({ major: 1, minor: 3 });
  });

  const roots: string[] = [];
  afterEach(() => {
    for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
  });
  const tree = (files: string[]): string => {
    const r = mkdtempSync(join(tmpdir(), 'tsc-blkio-'));
    roots.push(r);
    for (const f of files) {
      mkdirSync(join(r, f, '..'), { recursive: true });
      writeFileSync(join(r, f), '');
    }
    return r;
  };

  test('v1: weights by the CFQ/BFQ files, throttles by blk-throttle', () => {
    const noWeights = tree(['sys/fs/cgroup/blkio/blkio.throttle.read_bps_device']);
    expect(blkioSupport(noWeights, 'v1')).toEqual({ weight: false, weightDevice: false, throttle: true });
    const bfq = tree(['sys/fs/cgroup/blkio/blkio.bfq.weight', 'sys/fs/cgroup/blkio/blkio.bfq.weight_device']);
    expect(blkioSupport(bfq, 'v1')).toEqual({ weight: true, weightDevice: true, throttle: false });
  });

  test('v2: the io controller', () => {
    const r = tree([]);
    mkdirSync(join(r, 'sys/fs/cgroup'), { recursive: true });
    writeFileSync(join(r, 'sys/fs/cgroup/cgroup.controllers'), 'cpu io memory\n');
    expect(blkioSupport(r, 'v2')).toEqual({ weight: true, weightDevice: true, throttle: true });
    writeFileSync(join(r, 'sys/fs/cgroup/cgroup.controllers'), 'cpu memory\n');
    expect(blkioSupport(r, 'v2').throttle).toBe(false);
  });
});
