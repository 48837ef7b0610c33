/**
 * Flags files (kube-apiserver.flags): one line of `--name=value` words, meant to be pasted into a
 * command line or read by a shell (`$(cat kube-apiserver.flags)` in a script, `eval`). Each flag is
 * one shell word: quoted only when its value needs it, so the usual paths stay as they are.
 */
import { shellWord } from './shell.js';

const FLAG_NAME = /^[a-z][a-z0-9-]*$/;

export function flagWord(name: string, value: string): string {
  if (!FLAG_NAME.test(name)) throw new TypeError(`flagWord: ${JSON.stringify(name)} is not a flag name`);
  return shellWord(`--${name}=${value}`, `--${name}`);
}

/** One line of flags. */
export function renderFlagsLine(flags: readonly (readonly [name: string, value: string])[]): string {
  return `${flags.map(([n, v]) => flagWord(n, v)).join(' ')}\n`;
}
