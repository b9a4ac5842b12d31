/**
 * "Did you mean …?" for a misspelt key or value: the closest of the names a place allows, by optimal string
 * alignment distance (Levenshtein plus transpositions of adjacent letters, as `imgae` → `image`). A name is
 * suggested when it is at most 2 edits away, and at most a third of the word's length (so that `ab` does not
 * suggest `cap_add`); among equally close names, the first one given. docker compose (compose-go's schema
 * validation) has no such hint: the wording is tscompose's own.
 */

/** Edits (insert, delete, substitute, swap two adjacent letters) that turn `a` into `b`, case-insensitive. */
export function editDistance(a0: string, b0: string): number {
  const a = a0.toLowerCase();
  const b = b0.toLowerCase();
  // d[i][j]: distance between a[0..i) and b[0..j); three rows are enough.
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      cur.push(d);
    }
    prev2 = prev;
    prev = cur;
  }
  return prev[b.length]!;
}

/** The allowed name closest to `word`, when it is close enough to be what was meant; undefined otherwise. */
export function closest(word: string, allowed: Iterable<string>): string | undefined {
  const limit = Math.min(2, Math.max(1, Math.floor(word.length / 3)));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const name of allowed) {
    if (name === word) return undefined;
    const d = editDistance(word, name);
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return best;
}

/** ` (did you mean "image"?)`, or '' when nothing allowed is close to `word`. */
export function didYouMean(word: string, allowed: Iterable<string>): string {
  const name = closest(word, allowed);
  return name === undefined ? '' : ` (did you mean ${JSON.stringify(name)}?)`;
}
