/**
 * Quoting that remembers its long values. Every member's etcd.env and etcd.yaml carry the same
 * initial-cluster list (~40 characters a member): checking it for control characters and escaping
 * it again for each of 100 members cost ~3 ms and ~1 MB of garbage in a gen. Short values are
 * quoted each time (cheaper than a lookup). A value that fails its check is never remembered, and
 * `what` only names the value in that failure, so a remembered result is the one `quote` would give.
 */
const LONG = 256;
const MAX_REMEMBERED = 64;

export function rememberingLongValues(quote: (value: string, what: string) => string): (value: string, what: string) => string {
  const remembered = new Map<string, string>();
  return (value, what) => {
    if (value.length < LONG) return quote(value, what);
    let quoted = remembered.get(value);
    if (quoted === undefined) {
      quoted = quote(value, what);
      if (remembered.size >= MAX_REMEMBERED) remembered.clear();
      remembered.set(value, quoted);
    }
    return quoted;
  };
}
