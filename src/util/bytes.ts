/**
 * Byte sizes as docker/go-units `RAMInBytes`: `512`, `512k`, `1.5m`, `2g`, `1gb`, `10MiB`… (binary multiples,
 * case-insensitive, optional `b`/`ib` suffix). Returns undefined when the text is not a size.
 */
const MULT: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

export function parseBytes(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) ? Math.trunc(input) : undefined;
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?\s*$/i.exec(input);
  if (!m) return undefined;
  const n = parseFloat(m[1]!);
  return Math.trunc(n * MULT[m[2]!.toLowerCase()]!);
}
