/** "Did you mean …?" for mistyped commands and flags. */
import { distance } from 'fastest-levenshtein';

/**
 * The known name closest to `typed`, when it is close enough to be a typo: at most a third of its
 * letters (and at most 3) edited, or `typed` a prefix of exactly one name.
 *
 * @example suggest('gencertt', ['gencert', 'gen']) // 'gencert'
 */
export function suggest(typed: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of known) {
    const d = distance(typed, name);
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  if (best !== undefined && bestDistance <= Math.min(3, Math.ceil(typed.length / 3))) return best;
  const prefixed = known.filter((name) => name.startsWith(typed));
  return typed.length >= 2 && prefixed.length === 1 ? prefixed[0] : undefined;
}

/** `; did you mean X?` or nothing: the tail of an error message. */
export function didYouMean(typed: string, known: readonly string[], render: (name: string) => string = (n) => `'${n}'`): string {
  const hit = suggest(typed, known);
  return hit === undefined ? '' : `; did you mean ${render(hit)}?`;
}
