/**
 * `explain`: match log lines against the catalogue (catalogue.ts) and render each entry's cause and fix
 * with the facts the line carries.
 *
 * Pure: strings in, explanations out.
 *
 * @example
 *   explainLine('x509: certificate is valid for 127.0.0.2, not 127.0.0.1')[0].id  // 'san-mismatch'
 */
import { CATALOGUE, entryRank, findEntry, type CatalogueEntry } from './catalogue.js';

/** An entry rendered for one line: facts substituted into cause and fix. */
export interface Explanation {
  id: string;
  title: string;
  /** The line that matched, as given (trimmed). */
  evidence: string;
  /** The part of the line the matcher recognised (escapes undone): what to show when the line is long. */
  match: string;
  cause: string;
  fix: string;
  seeAlso: string[];
  /** What the line told us: addresses, names, variables. Only facts actually found. */
  facts: Record<string, string>;
}

/** One failure found in a multi-line text: the first line that showed it, and how many lines did. */
export interface TextExplanation extends Explanation {
  /** 1-based line number of `evidence`. */
  line: number;
  count: number;
}

// Long journald/JSON lines are common; nothing we match sits beyond this, and it bounds regex work per line.
const MAX_LINE = 16 * 1024;
const MAX_EVIDENCE = 2000;
const MAX_FACT = 200;

/**
 * Lines arrive as etcd wrote them: zap JSON escapes quotes (`\"`), capnslog quotes the error with %q, and
 * either may be JSON-escaped again by journald or kubectl. Undo up to two levels so one pattern fits all.
 */
function normalize(line: string): string {
  let s = line.slice(0, MAX_LINE).replace(/\x1b\[[0-9;]*m/g, '');
  for (let i = 0; i < 2; i++) s = s.replace(/\\(["\\])/g, '$1');
  return s;
}

// Facts any line can carry, whatever the failure: who was rejected (capnslog, zap JSON, zap console).
const CONTEXT_FACTS: readonly { name: string; re: RegExp }[] = [
  { name: 'remote', re: /rejected connection(?: on (?:client|peer) endpoint)? from "([^"]+)"/ },
  { name: 'remote', re: /"remote-addr":"([^"]+)"/ },
  { name: 'remote', re: /remote-addr=([^\s\]"]+)/ },
];

function cleanFact(value: string): string {
  const s = value
    .trim()
    .replace(/"\s+"/g, ', ') // Go %q of a []string: ["a" "b"]
    .replace(/["\\]/g, '')
    .replace(/[,;]+$/, '');
  return s.length > MAX_FACT ? `${s.slice(0, MAX_FACT - 1)}…` : s;
}

const FILTERS: Readonly<Record<string, (v: string) => string>> = {
  // ETCD_PEER_CERT_FILE -> --peer-cert-file (etcd's pkg/flags naming rule, also for ETCDCTL_)
  flag: (v) => `--${v.replace(/^ETCD(?:CTL)?_/, '').toLowerCase().replace(/_/g, '-')}`,
};

const PLACEHOLDER = /\{([A-Za-z]\w*)(?:\|([a-z]+))?\}/g;
const PLACEHOLDER_OR_OPTIONAL = /\[\[([\s\S]*?)\]\]|\{([A-Za-z]\w*)(?:\|([a-z]+))?\}/g;
type Facts = Record<string, string>;

function substitute(whole: string, name: string, filter: string | undefined, facts: Facts, defaults: Readonly<Facts>): string {
  const value = facts[name];
  if (value === undefined) return defaults[name] ?? whole;
  const f = filter === undefined ? undefined : FILTERS[filter];
  return f ? f(value) : value;
}

// One pass over the template: a fact's value is never itself scanned for placeholders.
function render(text: string, facts: Facts, defaults: Readonly<Facts>): string {
  return text.replace(PLACEHOLDER_OR_OPTIONAL, (whole, optional: string | undefined, name: string, filter: string | undefined) => {
    if (optional === undefined) return substitute(whole, name, filter, facts, defaults);
    const names = [...optional.matchAll(PLACEHOLDER)].map((m) => m[1] as string);
    if (!names.every((n) => facts[n] !== undefined)) return '';
    return optional.replace(PLACEHOLDER, (w, n: string, f: string | undefined) => substitute(w, n, f, facts, defaults));
  });
}

function toExplanation(entry: CatalogueEntry, facts: Record<string, string>, evidence: string, match: string): Explanation {
  const defaults = entry.captures ?? {};
  return {
    id: entry.id,
    title: entry.title,
    evidence,
    match: match.length > MAX_EVIDENCE ? `${match.slice(0, MAX_EVIDENCE - 1)}…` : match,
    cause: render(entry.cause, facts, defaults),
    fix: render(entry.fix, facts, defaults),
    seeAlso: [...entry.seeAlso],
    facts,
  };
}

/**
 * Render one entry with facts the caller already knows, e.g. what `probe` saw on the wire.
 * Throws TypeError for an unknown id: that is a programming error, not bad input.
 *
 * @example
 *   explainEntry('san-mismatch', { validFor: '127.0.0.2', wanted: '127.0.0.1' }).cause
 */
export function explainEntry(id: string, facts: Record<string, string> = {}, evidence = ''): Explanation {
  const entry = findEntry(id);
  if (!entry) throw new TypeError(`explainEntry: no catalogue entry '${id}'`);
  return toExplanation(entry, { ...facts }, evidence, evidence);
}

/**
 * Every catalogue entry one log line matches, most specific first, with the facts it carries substituted.
 *
 * @example
 *   explainLine('conflicting environment variable "ETCD_NAME" is shadowed by corresponding command-line flag')
 *   // [{ id: 'env-flag-conflict', facts: { var: 'ETCD_NAME' }, fix: 'Use one mechanism: remove --name ...', ... }]
 */
export function explainLine(line: string): Explanation[] {
  const text = normalize(line);
  const context: Record<string, string> = {};
  for (const { name, re } of CONTEXT_FACTS) {
    const m = re.exec(text);
    if (m?.[1] !== undefined && context[name] === undefined) context[name] = cleanFact(m[1]);
  }
  const evidence = line.trim().slice(0, MAX_EVIDENCE);
  const out: Explanation[] = [];
  for (const entry of CATALOGUE) {
    for (const re of entry.matchers) {
      const m = re.exec(text);
      if (!m) continue;
      const facts: Record<string, string> = { ...context };
      for (const [k, v] of Object.entries(m.groups ?? {})) if (v !== undefined && v.trim() !== '') facts[k] = cleanFact(v);
      out.push(toExplanation(entry, facts, evidence, m[0].trim()));
      break;
    }
  }
  return out;
}

/**
 * Explain a whole log: one explanation per failure found, most specific first, with the first line that
 * showed it as evidence and the number of lines that did.
 */
export function explainText(text: string): TextExplanation[] {
  const found = new Map<string, TextExplanation>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === '') continue;
    for (const e of explainLine(line)) {
      const seen = found.get(e.id);
      if (seen) seen.count++;
      else found.set(e.id, { ...e, line: i + 1, count: 1 });
    }
  }
  return [...found.values()].sort((a, b) => entryRank(a.id) - entryRank(b.id));
}
