/** How bad a finding is. Its own module so the code registries (check/codes.ts, probe/codes.ts) and
 * findings.ts, which types `Finding.code` from them, need not import each other. */
export type Severity = 'error' | 'warning' | 'info';
