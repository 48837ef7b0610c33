/**
 * Environment files read both by systemd's EnvironmentFile= and by sh's `.` (etcd.env, etcdctl.env).
 * A double-quoted value means the same to both: systemd's parser and sh both take `\"`, `\\`, `\$`
 * and `` \` `` as the escaped character, and neither expands anything else inside the quotes once
 * `$` and backquote are escaped.
 */
import { checkText, MAX_GENERATED_VALUE } from '../../pki/text.js';
import { rememberingLongValues } from './remember.js';

export { shellComment as envComment } from './shell.js';

/** `"value"` with `\`, `"`, `$` and backquote escaped; control characters refused. */
export function envQuote(value: string, what = 'environment value'): string {
  return quoteEnv(value, what);
}

const quoteEnv = rememberingLongValues((value, what) => {
  checkText(value, what, MAX_GENERATED_VALUE);
  return `"${value.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`;
});

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `NAME="value"` (with `export ` for files only a shell reads). */
export function envAssignment(name: string, value: string, exported = false): string {
  if (!NAME.test(name)) throw new TypeError(`envAssignment: ${JSON.stringify(name)} is not a variable name`);
  return `${exported ? 'export ' : ''}${name}=${envQuote(value, name)}`;
}
