/**
 * systemd unit file syntax (systemd.syntax(7), systemd.unit(5)): `%` starts a specifier, so a literal
 * one is `%%`; a line ending in a backslash continues on the next; a newline ends the setting.
 * Values here are free text (Description=) or one absolute path (EnvironmentFile=), which systemd
 * takes as they stand apart from specifiers.
 */
import { fail } from '../../errors.js';
import { checkText, MAX_GENERATED_VALUE } from '../../pki/text.js';

/** Text for a setting that expands specifiers but not quotes (Description=, EnvironmentFile=). */
export function unitValue(value: string, what = 'unit setting'): string {
  checkText(value, what, MAX_GENERATED_VALUE);
  // A trailing backslash would join the next line into this value; no escape undoes it.
  if (value.endsWith('\\')) throw fail('BAD_FIELD', `${what}: a systemd setting cannot end with a backslash`);
  return value.replace(/%/g, '%%');
}

/** An absolute path setting (EnvironmentFile=, WorkingDirectory=). */
export function unitPath(value: string, what = 'unit path'): string {
  if (!value.startsWith('/')) throw fail('BAD_FIELD', `${what}: systemd needs an absolute path`);
  return unitValue(value, what);
}

export { shellComment as unitComment } from './shell.js';
