/**
 * re2js (RE2 in JavaScript, ~290 kB) loaded on first use: only a profile with a name_whitelist needs
 * it, and every gencert/sign start would otherwise compile and initialise it (~10 ms CPU; bench/README.md,
 * "Cold start"). A synchronous require because the config reader that compiles the pattern is
 * synchronous. The command bundles replace this file with `require('re2js')` (scripts/bundle.mjs):
 * a bundle is CommonJS and has no import.meta.
 */
import { createRequire } from 'node:module';
import type { RE2JS } from 're2js';

let engine: typeof RE2JS | undefined;

export function loadRe2(): typeof RE2JS {
  return (engine ??= (createRequire(import.meta.url)('re2js') as typeof import('re2js')).RE2JS);
}
