/**
 * Native volumes: directories under `<state>/volumes/<name>` (volume.json and `_data/`), the `local` driver only.
 * Containers bind-mount `_data` (./container-mounts.ts). Under a user-namespace remap (TSCOMPOSE_USERNS_REMAP) a new
 * volume's `_data` belongs to the remapped root, as dockerd's volumes under `userns-remap`.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { TsComposeError } from '../../errors.js';
import { isMissing } from '../../lib/errors.js';
import { readJson, writeJsonAtomic } from '../../lib/fs/atomic.js';
import { withLock } from '../../lib/fs/lock.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { matchesLabels, type CallOptions, type ListOptions, type VolumeInfo, type VolumeSpec } from '../runtime.js';
import type { NativeContext } from './context.js';
import { unsupported } from './unsupported.js';

/** Docker's volume name rule (also what keeps a name a single path component). */
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

interface VolumeRecord {
  name: string;
  driver: string;
  labels: Record<string, string>;
  created: number;
}

/** The host directory holding a volume's content. */
export function volumeDataDir(ctx: NativeContext, name: string): string {
  return path.join(ctx.paths.volumes, name, '_data');
}

/** The volume's lock (lib/fs/lock.ts): held by its creation, its removal and `check`'s repairs of it. */
export function volumeLockFile(ctx: NativeContext, name: string): string {
  return path.join(ctx.paths.locks, `v-${name}`);
}

export class VolumeService {
  constructor(private readonly ctx: NativeContext) {}

  /** The host directory holding a volume's content. */
  dataDir(name: string): string {
    return volumeDataDir(this.ctx, name);
  }

  async exists(name: string): Promise<boolean> {
    return (await this.read(name)) !== undefined;
  }

  private async read(name: string): Promise<VolumeRecord | undefined> {
    if (!VOLUME_NAME.test(name)) return undefined;
    return readJson<VolumeRecord>(path.join(this.ctx.paths.volumes, name, 'volume.json'));
  }

  private info(v: VolumeRecord): VolumeInfo {
    return { name: v.name, driver: v.driver, labels: v.labels, mountpoint: this.dataDir(v.name) };
  }

  async list(options: ListOptions = {}): Promise<VolumeInfo[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.ctx.paths.volumes);
    } catch (e) {
      if (isMissing(e)) return [];
      throw e;
    }
    const out: VolumeInfo[] = [];
    for (const n of names.sort()) {
      const v = await this.read(n);
      if (v && matchesLabels(v.labels, options.labels)) out.push(this.info(v));
    }
    return out;
  }

  async inspect(name: string): Promise<VolumeInfo> {
    const v = await this.read(name);
    if (!v) throw new NotFoundError('volume', name);
    return this.info(v);
  }

  async create(spec: VolumeSpec): Promise<VolumeInfo> {
    if (!VOLUME_NAME.test(spec.name)) {
      throw new TsComposeError(
        'TSC_INVALID_VOLUME_NAME',
        `invalid volume name ${JSON.stringify(spec.name)}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
      );
    }
    if (spec.driver !== undefined && spec.driver !== 'local')
      throw unsupported(`volume driver ${spec.driver}`, 'the native runtime has local volumes only');
    return withLock(volumeLockFile(this.ctx, spec.name), async () => {
      const existing = await this.read(spec.name);
      if (existing) return this.info(existing);
      const dir = path.join(this.ctx.paths.volumes, spec.name);
      await fs.mkdir(path.join(dir, '_data'), { recursive: true, mode: 0o755 });
      // Under a user-namespace remap a new volume belongs to the remapped root (as dockerd's remapped volumes).
      const userns = this.ctx.userns();
      if (userns) await fs.chown(path.join(dir, '_data'), userns.uid, userns.gid);
      const v: VolumeRecord = { name: spec.name, driver: 'local', labels: { ...spec.labels }, created: Date.now() };
      await writeJsonAtomic(path.join(dir, 'volume.json'), v);
      await this.ctx.event({ type: 'volume', action: 'create', id: spec.name, attributes: { ...v.labels, driver: 'local' } });
      return this.info(v);
    });
  }

  /**
   * Under the volume's lock (as `create` and `check`). The data goes first, its record last: a removal killed
   * half-way leaves a volume still listed (partly emptied) that `volume rm` finishes, never data without a record,
   * which `check --repair` would bring back as a volume without its labels.
   */
  async remove(name: string, options: CallOptions & { force?: boolean | undefined } = {}): Promise<void> {
    if (!VOLUME_NAME.test(name)) {
      if (options.force) return;
      throw new NotFoundError('volume', name);
    }
    const v = await withLock(volumeLockFile(this.ctx, name), async () => {
      const v = await this.read(name);
      if (!v) {
        if (options.force) return undefined;
        throw new NotFoundError('volume', name);
      }
      const users = (await this.ctx.state.all()).filter((r) => r.mounts.some((m) => m.type === 'volume' && m.source === name));
      if (users.length > 0) throw new ConflictError('volume', name, `volume is in use - [${users.map((u) => u.id).join(', ')}]`);
      const dir = path.join(this.ctx.paths.volumes, name);
      await fs.rm(path.join(dir, '_data'), { recursive: true, force: true });
      await fs.rm(dir, { recursive: true, force: true });
      return v;
    });
    if (v) await this.ctx.event({ type: 'volume', action: 'destroy', id: name, attributes: { ...v.labels, driver: 'local' } });
  }
}
