/** Platforms (`os/arch[/variant]`) and picking an image index's manifest for one. */
import { InvalidPlatformError } from './errors.js';
import { INDEX_TYPES, MANIFEST_TYPES, type Descriptor, type ImageIndex, type Platform } from './types.js';

const ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
};

/** The platform to pull: `os/arch[/variant]` or this machine. */
export function parsePlatform(spec?: string): Platform {
  if (spec === undefined || spec === '') {
    const architecture = ARCH[process.arch] ?? process.arch;
    const p: Platform = { os: 'linux', architecture };
    if (architecture === 'arm') p.variant = 'v7';
    return p;
  }
  const [os, architecture, variant] = spec.toLowerCase().split('/');
  if (!os || !architecture) throw new InvalidPlatformError(spec);
  const p: Platform = { os, architecture: architecture === 'x86_64' ? 'amd64' : architecture === 'aarch64' ? 'arm64' : architecture };
  if (variant) p.variant = variant;
  return p;
}

export function platformString(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/** Picks the manifest of an index for a platform (arm64's default variant v8 matches an entry without variant). */
export function selectManifest(index: ImageIndex, want: Platform): Descriptor | undefined {
  const candidates = (index.manifests ?? []).filter(
    (m) =>
      m.platform &&
      m.platform.os === want.os &&
      m.platform.architecture === want.architecture &&
      (MANIFEST_TYPES.includes(m.mediaType) || INDEX_TYPES.includes(m.mediaType) || !m.mediaType),
  );
  const norm = (v: string | undefined): string | undefined => (want.architecture === 'arm64' && v === undefined ? 'v8' : v);
  if (want.variant !== undefined) {
    return candidates.find((m) => norm(m.platform!.variant) === want.variant) ?? candidates.find((m) => m.platform!.variant === undefined);
  }
  return candidates.find((m) => norm(m.platform!.variant) === norm(undefined)) ?? candidates[0];
}
