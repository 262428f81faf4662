/**
 * closest returns the candidate nearest to `word` for a "did you mean" hint, or undefined when
 * none is close. Both sides are compared through `normalize` (lowercase by default); close means
 * at most 2 edits, or a quarter of the word's length for longer words, so `redsi` finds `redis`
 * and `cookeName` finds `cookieName` while unrelated words find nothing. The first of equally
 * close candidates wins.
 */
export function closest(word: string, candidates: Iterable<string>, normalize: (text: string) => string = (text) => text.toLowerCase()): string | undefined {
  const target = normalize(word);
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(target, normalize(candidate));
    if (!best || distance < best.distance) best = { candidate, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(target.length / 4)) ? best.candidate : undefined;
}

/** editDistance is the Levenshtein distance of `a` and `b`: insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
