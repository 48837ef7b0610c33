/**
 * Quoting that remembers its long values. Every member's etcd.env and etcd.yaml carry the same
 * initial-cluster list (~40 characters a member): checking it for control characters and escaping
 * it again for each of 100 members cost ~3 ms and ~1 MB of garbage in a gen. Short values are
 * quoted each time (cheaper than a lookup). A value that fails its check is never remembered, and
 * `what` only names the value in that failure, so a remembered result is the one `quote` would give.
 */
import { boundedMemo } from '../../pki/memo.js';

const LONG = 256;

export function rememberingLongValues(quote: (value: string, what: string) => string): (value: string, what: string) => string {
  const remembered = boundedMemo<string>(64);
  return (value, what) => (value.length < LONG ? quote(value, what) : remembered(value, () => quote(value, what)));
}
