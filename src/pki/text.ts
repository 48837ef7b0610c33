/**
 * Text that users write and etcd-tls puts into certificates, files and messages: no control character
 * (C0, DEL, C1) and no value beyond its documented limit. A leaf module so that every parser (pki/san,
 * cluster/spec, cfssl/config) can use it without an import cycle; pki/validate.ts builds on it.
 */
import { fail } from '../errors.js';

export const MAX_NAME_VALUE = 256;
export const MAX_DNS_NAME = 253;
export const MAX_EMAIL = 320;
export const MAX_URI = 2048;
/** Anything else a user writes into a file or flag (paths, URLs in a profile). */
export const MAX_TEXT = 4096;
/**
 * A value etcd-tls itself composes for a generated file (a word in etcd.env, install.sh): initial-cluster
 * lists every member, ~40 characters each, so 1,000 members (the spec's MAX_MEMBERS) need ~40 KB.
 */
export const MAX_GENERATED_VALUE = 256 * 1024;

// C0 controls, DEL and C1 controls: what can end a line, move a terminal's cursor or hide text.
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;

/** `U+000A at character 5`, or undefined when `value` has no control character. */
export function controlCharacterIn(value: string): string | undefined {
  const m = CONTROL.exec(value);
  if (!m) return undefined;
  return `U+${(m[0].charCodeAt(0)).toString(16).toUpperCase().padStart(4, '0')} at character ${m.index + 1}`;
}

/**
 * Refuse a control character: what every generated file's quoting needs. Values etcd-tls composes
 * itself (an initial-cluster list of many members) have no length limit of their own.
 */
export function refuseControlCharacters(value: string, where: string): void {
  const control = controlCharacterIn(value);
  if (control) throw fail('CONTROL_CHARACTER', `${where}: contains a control character (${control}); names, SANs and paths must be printable text`);
}

/**
 * Refuse a control character or a value longer than `max`. `where` names the file and field. The
 * message never repeats the value: it may be megabytes long, and it is exactly what is being refused.
 */
export function checkText(value: string, where: string, max: number = MAX_TEXT): void {
  if (value.length > max) throw fail('TOO_LONG', `${where}: is ${value.length} characters long; the limit is ${max}`);
  refuseControlCharacters(value, where);
}

