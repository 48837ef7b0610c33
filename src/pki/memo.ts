/**
 * Memoization for the small working sets a run repeats (a cluster's few hosts and SANs, its CA's
 * name, its initial-cluster list): values are kept by key up to `limit` keys, then all are dropped,
 * so memory stays bounded whatever the input. A compute that throws keeps nothing, so bad input
 * fails, naming where it came from, every time.
 */
export function boundedMemo<V>(limit: number): (key: string, compute: () => V) => V {
  const values = new Map<string, V>();
  return (key, compute) => {
    const known = values.get(key);
    if (known !== undefined) return known;
    const value = compute();
    if (values.size >= limit) values.clear();
    values.set(key, value);
    return value;
  };
}
