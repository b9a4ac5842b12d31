/**
 * Seeded randomness for the fuzz tests: mulberry32 (a small, fast PRNG whose whole state is one 32-bit number),
 * so input i of a run with seed S is reproducible from S + i alone. FUZZ_SEED and FUZZ_COUNT set a run.
 */
export type Rng = () => number;

export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const int = (r: Rng, n: number): number => Math.floor(r() * n);
export const pick = <T>(r: Rng, xs: readonly T[]): T => xs[int(r, xs.length)]!;
export const chance = (r: Rng, p: number): boolean => r() < p;

/** The run's seed and input count: FUZZ_SEED / FUZZ_COUNT, else the given defaults. */
export function fuzzRun(defaultCount: number, defaultSeed = 0x5eed1234): { seed: number; count: number } {
  return { seed: Number(process.env['FUZZ_SEED'] ?? defaultSeed) >>> 0, count: Number(process.env['FUZZ_COUNT'] ?? defaultCount) };
}

/** A string mutated at the character level: deletions, duplications, insertions of `alphabet` pieces, swaps. */
export function mutateText(r: Rng, text: string, alphabet: readonly string[], rounds = 1 + int(r, 4)): string {
  let s = text;
  for (let i = 0; i < rounds; i++) {
    const at = int(r, s.length + 1);
    switch (int(r, 5)) {
      case 0:
        s = s.slice(0, at) + s.slice(at + 1 + int(r, 4));
        break;
      case 1:
        s = s.slice(0, at) + s.slice(at, at + 1 + int(r, 8)) + s.slice(at);
        break;
      case 2:
      case 3:
        s = s.slice(0, at) + pick(r, alphabet) + s.slice(at);
        break;
      default: {
        const b = int(r, s.length + 1);
        const [x, y] = at < b ? [at, b] : [b, at];
        s = s.slice(0, x) + s.slice(y) + s.slice(x, y);
      }
    }
  }
  return s;
}
