/**
 * "Did you mean ...?" for unknown keys and values: the closest candidate by
 * Damerau-Levenshtein distance (optimal string alignment: insertions,
 * deletions, substitutions and swaps of neighbours), case-insensitive. Pure.
 */

/** Edit distance between two strings, counting a swap of neighbours as one edit. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  // Three rows suffice: the swap looks back two rows.
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

/** How many edits a word may be away from a candidate: 1 for short words, up to 3. */
export function maxEdits(word: string): number {
  return Math.min(3, Math.max(1, Math.floor(word.length / 3)));
}

/**
 * The candidate closest to `word` within `maxEdits(word)` edits (or the
 * given limit), ignoring case and treating `-` and `_` alike; undefined
 * when none is close enough. On a tie the earlier candidate wins.
 */
export function closest(word: string, candidates: Iterable<string>, limit = maxEdits(word)): string | undefined {
  const w = fold(word);
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const c of candidates) {
    // The distance is at least the difference in length: a long word needs no table.
    if (Math.abs(w.length - c.length) > limit) continue;
    const d = editDistance(w, fold(c));
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** ` (did you mean 'x'?)` or the empty string. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const c = closest(word, candidates);
  return c === undefined || c === word ? '' : ` (did you mean '${c}'?)`;
}

/**
 * At most `max` characters of a word a message shows, with `…` when cut: a
 * message names the problem, never more than a token of the file (which may
 * be anything given with -c).
 */
export function clip(s: string, max = 40): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** A message from a YAML parser with each run of text longer than `max` clipped. */
export function clipTokens(message: string, max = 40): string {
  return message.replace(new RegExp(`\\S{${max + 1},}`, 'g'), (t) => clip(t, max));
}

function fold(s: string): string {
  return s.toLowerCase().replaceAll('-', '_');
}
