/** The store's garbage collection: layers, blobs and distribution lists no image and no running pull or load uses. */
import { readdir, readFile, readlink, rename, rm, stat } from 'node:fs/promises';
import { hexOf, shortLinkName } from './digest.js';
import { diskUsage, tempName } from './fsutil.js';
import type { StoreParts } from './parts.js';

/** Deletes what nothing uses (and dead processes' scratch); returns the bytes freed. */
export async function collectGarbage({ layout, content, records }: Pick<StoreParts, 'layout' | 'content' | 'records'>): Promise<number> {
  await layout.sweep();
  return layout.locked(async () => {
    const keepLayers = new Set<string>();
    const keepBlobs = new Set<string>();
    const keepDiffs = new Set<string>();
    for (const r of await records.allRecords()) {
      keepBlobs.add(r.id);
      if (r.manifest) keepBlobs.add(r.manifest.digest);
      for (const b of r.extraBlobs ?? []) keepBlobs.add(b);
      for (const l of r.layers) {
        keepLayers.add(hexOf(l.chainId));
        keepDiffs.add(hexOf(l.diffId));
      }
    }
    for (const f of await readdir(layout.path('leases'))) {
      try {
        for (const d of JSON.parse(await readFile(layout.path('leases', f), 'utf8')) as string[]) {
          keepLayers.add(hexOf(d));
          keepBlobs.add(d);
          keepDiffs.add(hexOf(d));
        }
      } catch {
        /* a lease being written or removed */
      }
    }
    // build cache entries (lib/build/solver/cache.ts): their layers stay until `builder prune`
    for (const f of await readdir(layout.path('buildcache')).catch(() => [] as string[])) {
      try {
        const e = JSON.parse(await readFile(layout.path('buildcache', f), 'utf8')) as { layers?: { chainId: string; diffId: string }[] };
        for (const l of e.layers ?? []) {
          keepLayers.add(hexOf(l.chainId));
          keepDiffs.add(hexOf(l.diffId));
        }
      } catch {
        /* an entry being written */
      }
    }
    for (const h of keepDiffs) for (const b of await content.readDistribution(`sha256:${h}`)) keepBlobs.add(b.digest);
    let freed = 0;
    for (const h of await readdir(layout.path('layers'))) {
      if (keepLayers.has(h)) continue;
      const dir = layout.path('layers', h);
      freed += await diskUsage(dir);
      const aside = layout.path('tmp', `gc-${tempName()}`);
      await rename(dir, aside);
      await rm(layout.path('l', shortLinkName(`sha256:${h}`)), { force: true });
      await rm(aside, { recursive: true, force: true });
    }
    for (const h of await readdir(layout.path('blobs', 'sha256'))) {
      if (keepBlobs.has(`sha256:${h}`)) continue;
      const path = layout.path('blobs', 'sha256', h);
      freed += (await stat(path).catch(() => ({ size: 0 }))).size;
      await rm(path, { force: true });
    }
    for (const f of await readdir(layout.path('distribution'))) {
      if (!keepDiffs.has(f.replace(/\.json$/, ''))) await rm(layout.path('distribution', f), { force: true });
    }
    for (const name of await readdir(layout.path('l'))) {
      const target = await readlink(layout.path('l', name)).catch(() => undefined);
      if (target !== undefined && !(await layout.exists(layout.path('l', target)))) await rm(layout.path('l', name), { force: true });
    }
    return freed;
  });
}
