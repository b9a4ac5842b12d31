/**
 * Runtime contract cases for images made from files, declared by ./suite.ts inside its describe: importImage (a rootfs
 * tarball and changes; a non-tar refused), exportContainer (a container's files as a tar) and commitContainer (an
 * image of its changes).
 */
import { expect, test } from '@jest/globals';
import { Readable } from 'node:stream';
import { LABEL, NOT_FOUND, type ContractScope } from './scope.js';

export function imagesCases(scope: ContractScope): void {
  const { n, run, logs, prefix, runId } = scope;
  test('importImage: a rootfs tarball becomes a tagged image with the changes; a non-tar is refused', async () => {
    const rt = scope.runtime();
    const { default: tarStream } = await import('tar-stream');
    const pack = tarStream.pack();
    pack.entry({ name: 'etc/', type: 'directory', mode: 0o755, mtime: new Date(0) });
    pack.entry({ name: 'etc/hello', mode: 0o644, mtime: new Date(0) }, `hello ${runId}\n`);
    pack.finalize();
    const tag = `${prefix}-import:1`;
    const { id } = await rt.importImage(Readable.from(pack as unknown as AsyncIterable<Buffer>), {
      tag,
      changes: ['LABEL org.tscompose.contract.import=yes', 'CMD ["/bin/true"]'],
      message: 'contract',
    });
    try {
      expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
      const details = await rt.inspectImageDetails(tag);
      expect(details.id).toBe(id);
      expect(details.repoTags).toContain(tag);
      expect(details.config.labels).toMatchObject({ 'org.tscompose.contract.import': 'yes' });
      await expect(rt.importImage(Readable.from([Buffer.from('not a tarball\n'.repeat(64))]), { tag: `${prefix}-bad:1` })).rejects.toThrow();
    } finally {
      await rt.removeImage(id, { force: true }).catch(() => undefined);
    }
  });

  test('exportContainer and commitContainer: its files as a tar; an image of its changes with the changes given', async () => {
    const rt = scope.runtime();
    const { default: tarStream } = await import('tar-stream');
    const entriesOf = async (archive: Readable): Promise<Map<string, string>> => {
      const out = new Map<string, string>();
      const extract = tarStream.extract();
      const done = new Promise<void>((resolve, reject) => {
        extract.on('entry', (h, body, next) => {
          const parts: Buffer[] = [];
          body.on('data', (d: unknown) => parts.push(d as Buffer));
          body.on('end', () => {
            out.set(h.name.replace(/^\.\//, ''), Buffer.concat(parts).toString('utf8'));
            next();
          });
        });
        extract.on('finish', resolve);
        extract.on('error', reject);
      });
      archive.pipe(extract);
      await done;
      return out;
    };
    const c = await run('export');
    const pack = tarStream.pack();
    pack.entry({ name: 'contract-export.txt', mode: 0o644, mtime: new Date(0) }, `exported ${runId}\n`);
    pack.finalize();
    await rt.copyToContainer(c, '/tmp', Readable.from(pack as unknown as AsyncIterable<Buffer>));
    const files = await entriesOf(await rt.exportContainer(c));
    expect(files.get('tmp/contract-export.txt')).toBe(`exported ${runId}\n`);
    if (scope.capabilities().volumeContent) expect(files.has('bin/busybox') || files.has('bin/sh')).toBe(true);
    await expect(rt.exportContainer(n('missing'))).rejects.toMatchObject(NOT_FOUND);
    await expect(rt.commitContainer(n('missing'))).rejects.toMatchObject(NOT_FOUND);

    const tag = `${prefix}-commit:1`;
    const { id } = await rt.commitContainer(c, {
      reference: tag,
      author: 'contract',
      message: 'contract',
      changes: ['LABEL org.tscompose.contract.commit=yes'],
    });
    try {
      expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect((await rt.inspectContainer(c)).status).toBe('running'); // paused meanwhile, running again
      const details = await rt.inspectImageDetails(tag);
      expect(details.id).toBe(id);
      expect(details.repoTags).toContain(tag);
      expect(details.config.labels).toMatchObject({ 'org.tscompose.contract.commit': 'yes', [LABEL]: runId });
      if (scope.capabilities().volumeContent) {
        const r = await run('from-commit', { image: tag, command: ['cat', '/tmp/contract-export.txt'] });
        const exitCode = await rt.waitContainer(r);
        expect({ exitCode, logs: (await logs(r)).map((l) => l.line) }).toEqual({ exitCode: 0, logs: [`exported ${runId}`] });
        await rt.removeContainer(r, { force: true });
      }
    } finally {
      await rt.removeImage(id, { force: true }).catch(() => undefined);
    }
  });
}
