/**
 * Flag parsing for every command, on node's built-in util.parseArgs (it costs nothing to load, which
 * keeps `gencert` within its cold-start budget; commander alone adds ~30 ms, measured in bench/).
 *
 * cfssl is a Go program, so its users type `-ca=ca.pem` and `-ca ca.pem`. Single-dash long flags
 * are accepted for every flag a command declares, alongside the usual `--ca ca.pem`.
 */
import { parseArgs } from 'node:util';
import { fail, isEtcdTlsError } from '../errors.js';
import { didYouMean } from './suggest.js';

export interface FlagDef {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  /** One line for --help. */
  description: string;
  /** Shown as the value placeholder in --help, e.g. FILE. */
  value?: string;
}
export type FlagDefs = Record<string, FlagDef>;

export type ParsedFlags<D extends FlagDefs> = {
  [K in keyof D]?: D[K]['type'] extends 'boolean'
    ? boolean
    : D[K]['multiple'] extends true
      ? string[]
      : string;
};

const HELP_FLAG: FlagDef = { type: 'boolean', short: 'h', description: 'show this help' };

/** Rewrite Go-style `-name[=v]` into `--name[=v]` for declared long flags; stop at `--`. */
export function normalizeGoFlags(args: readonly string[], defs: FlagDefs): string[] {
  const out: string[] = [];
  let rest = false;
  for (const arg of args) {
    if (rest || arg === '--') {
      rest = true;
      out.push(arg);
      continue;
    }
    const m = /^-([A-Za-z][\w-]+)(=[\s\S]*)?$/.exec(arg);
    if (m && m[1] !== undefined && (m[1] in defs || m[1] === 'help')) out.push(`--${m[1]}${m[2] ?? ''}`);
    else out.push(arg);
  }
  return out;
}

export function parseFlags<D extends FlagDefs>(
  command: string,
  args: readonly string[],
  defs: D,
): { flags: ParsedFlags<D> & { help?: boolean }; positionals: string[] } {
  const all: FlagDefs = { help: HELP_FLAG, ...defs };
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {};
  for (const [name, d] of Object.entries(all)) {
    options[name] = { type: d.type, ...(d.multiple ? { multiple: true } : {}), ...(d.short ? { short: d.short } : {}) };
  }
  try {
    const { values, positionals, tokens } = parseArgs({
      args: normalizeGoFlags(args, all),
      options,
      allowPositionals: true,
      strict: true,
      tokens: true,
    });
    // util.parseArgs keeps the last of a repeated single-value flag without a word; a second
    // -hostname silently dropping the first is a mistake worth one line.
    const seen = new Set<string>();
    for (const t of tokens) {
      if (t.kind !== 'option' || all[t.name]?.type !== 'string') continue;
      // An empty value is a variable that was not set (`--out "$DIR"`), never a choice: `--out ''`
      // wrote into the current directory.
      if (t.value === '') throw fail('USAGE', `${command}: --${t.name} is empty; give it a value (see 'etcd-tls ${command} --help')`);
      if (all[t.name]?.multiple) continue;
      if (seen.has(t.name)) throw fail('USAGE', `${command}: --${t.name} is given more than once; give it once (see 'etcd-tls ${command} --help')`);
      seen.add(t.name);
    }
    return { flags: values as ParsedFlags<D> & { help?: boolean }, positionals };
  } catch (e) {
    if (isEtcdTlsError(e)) throw e;
    const msg = (e as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    const unknown = /^Unknown option '--?([^']+)'/.exec(msg)?.[1];
    const hint = unknown === undefined ? '' : didYouMean(unknown, Object.keys(all), (name) => `--${name}`);
    throw fail('USAGE', `${command}: ${msg}${hint} (see 'etcd-tls ${command} --help')`);
  }
}

/** Render the options block of a command's --help from its flag definitions. */
export function renderFlagHelp(defs: FlagDefs): string {
  const rows = Object.entries({ ...defs, help: HELP_FLAG }).map(([name, d]) => {
    const left = `  ${d.short ? `-${d.short}, ` : ''}--${name}${d.type === 'string' ? ` ${d.value ?? 'VALUE'}` : ''}`;
    return [left, d.description] as const;
  });
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  return rows.map(([l, r]) => l.padEnd(width) + r).join('\n');
}

/** Fetch a required string flag or fail with MISSING_FLAG. */
export function requireFlag(command: string, value: string | undefined, flag: string, why: string): string {
  if (value === undefined || value === '') throw fail('MISSING_FLAG', `${command}: -${flag} is required: ${why}`);
  return value;
}

/** The optional DIR positional of the day-2 commands (status, renew, revoke, crl, ca); gen's default. */
export function dirArgument(command: string, positionals: readonly string[], fallback = 'etcd-tls-pki'): string {
  if (positionals.length > 1) throw fail('USAGE', `${command}: expected at most one DIR argument, got ${positionals.length} (see 'etcd-tls ${command} --help')`);
  return positionals[0] ?? fallback;
}

/**
 * A whole-number flag (decimal digits only: no sign, exponent or spaces), within [min, max]; undefined
 * when the flag is absent. USAGE names the command, the flag and the value.
 */
export function wholeNumberFlag(command: string, text: string | undefined, flag: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (text === undefined) return undefined;
  const n = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) {
    const range = min === 0 && max === Number.MAX_SAFE_INTEGER ? '' : ` between ${min} and ${max}`;
    throw fail('USAGE', `${command}: --${flag}: "${text}" is not a whole number${range}`);
  }
  return n;
}
