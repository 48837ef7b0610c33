/**
 * POSIX sh syntax for generated scripts (install.sh) and sourced files. A value becomes one word
 * whatever it holds: single quotes take everything literally except the quote itself. Control
 * characters are refused rather than quoted: a newline is legal in a quoted word but not in a comment,
 * and no path or name etcd-tls writes has a reason to carry one.
 */
import { checkText, MAX_GENERATED_VALUE } from '../../pki/text.js';
import { rememberingLongValues } from './remember.js';

/** `'value'`, with `'` written as `'\''`. */
export function shellQuote(value: string, what = 'shell word'): string {
  return quoteShell(value, what);
}

const quoteShell = rememberingLongValues((value, what) => {
  checkText(value, what, MAX_GENERATED_VALUE);
  return `'${value.replace(/'/g, `'\\''`)}'`;
});

// Characters no POSIX shell treats specially inside a word.
const PLAIN_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** The value as it stands when it needs no quoting (keeps generated files readable), else shellQuote. */
export function shellWord(value: string, what = 'shell word'): string {
  checkText(value, what, MAX_GENERATED_VALUE);
  return PLAIN_WORD.test(value) ? value : shellQuote(value, what);
}

/** `# text`: a comment ends at the newline, so a value with one is refused, never written. */
export function shellComment(text: string): string {
  checkText(text, 'comment');
  return `# ${text}`;
}
