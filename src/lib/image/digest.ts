/** Digests, chain ids and short link names (image-spec `config.md` "Layer ChainID"). */
import { createHash } from 'node:crypto';

export function sha256(data: string | Uint8Array): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

/** The hex part of `sha256:<hex>`. */
export function hexOf(digest: string): string {
  const i = digest.indexOf(':');
  return i >= 0 ? digest.slice(i + 1) : digest;
}

/** The 12 hex digits progress lines show for a blob (`sha256:0123456789ab…` → `0123456789ab`). */
export function shortDigest(digest: string): string {
  return hexOf(digest).slice(0, 12);
}

export function isSha256Digest(s: string): boolean {
  return /^sha256:[a-f0-9]{64}$/.test(s);
}

/** ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)). */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? d : sha256(`${prev} ${d}`));
  }
  return out;
}

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A 10-character name for the `l/` symlink of a layer, derived from its chain id (50 bits). */
export function shortLinkName(chainId: string): string {
  const bytes = createHash('sha256').update(`tscompose-link ${chainId}`).digest();
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5 && out.length < 10) {
      out += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length >= 10) break;
    value &= (1 << bits) - 1;
  }
  return out;
}
