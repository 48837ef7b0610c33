/**
 * Test-only fault injection: ETCD_TLS_FAULT_AT=N makes this process SIGKILL itself at the store's N-th
 * file operation (ETCD_TLS_FAULT_AT=rename:N: at its N-th rename). It proves that a run killed at any
 * point leaves nothing a re-run cannot finish or remove. Unset (always, outside tests) it costs one
 * comparison per operation.
 */
const spec = /^(?:(open|write|rename|mkdir|remove|link):)?([1-9]\d*)$/.exec(process.env.ETCD_TLS_FAULT_AT ?? '');
const onlyKind = spec?.[1];
const at = spec ? Number(spec[2]) : 0;
let count = 0;

export type FileOperation = 'open' | 'write' | 'rename' | 'mkdir' | 'remove' | 'link';

/** Called by the store just before each file operation. */
export function beforeFileOperation(kind: FileOperation): void {
  if (at === 0 || (onlyKind !== undefined && onlyKind !== kind)) return;
  if (++count === at) process.kill(process.pid, 'SIGKILL');
}
