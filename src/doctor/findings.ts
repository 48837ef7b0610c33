/**
 * Findings: what the doctor reports, as data. `check` (and later `probe`) return lists of them; the
 * edges render them as text for people or JSON for scripts. Nothing here reads files or argv.
 */

import type { CheckCode } from './check/codes.js';
import type { CatalogueId } from './explain/catalogue.js';
import type { ProbeCode } from './probe/codes.js';
import type { Severity } from './severity.js';

export type { Severity } from './severity.js';
export type { CatalogueId } from './explain/catalogue.js';

/** Every code a finding can carry: the registries of check/codes.ts and probe/codes.ts. */
export type FindingCode = CheckCode | ProbeCode;

export interface Finding {
  /** Stable kebab-case identifier, e.g. 'server-cert-missing-clientauth'. Never reused for another problem. */
  code: FindingCode;
  severity: Severity;
  /** What the finding is about: a file, or a setting as `<file>: <NAME>`. Findings are grouped by it. */
  subject: string;
  /** One line: what is wrong. */
  message: string;
  /** One line: the concrete thing to do about it. */
  fix: string;
  /** Catalogue entries (`etcd-tls explain`) that describe the failure this causes. */
  seeAlso?: CatalogueId[];
}

export interface FindingsSummary {
  errors: number;
  warnings: number;
  info: number;
}

const RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

export function summarizeFindings(findings: readonly Finding[]): FindingsSummary {
  const s: FindingsSummary = { errors: 0, warnings: 0, info: 0 };
  for (const f of findings) {
    if (f.severity === 'error') s.errors++;
    else if (f.severity === 'warning') s.warnings++;
    else s.info++;
  }
  return s;
}

export const hasErrors = (findings: readonly Finding[]): boolean => findings.some((f) => f.severity === 'error');

/** Drop exact repeats (same code, subject and message), keeping the first. */
export function dedupeFindings(findings: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.code}\0${f.subject}\0${f.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Subjects in order of first appearance; within a subject, errors first, then warnings, then info. */
export function groupFindings(findings: readonly Finding[]): { subject: string; findings: Finding[] }[] {
  const groups = new Map<string, Finding[]>();
  for (const f of findings) {
    const list = groups.get(f.subject) ?? [];
    list.push(f);
    groups.set(f.subject, list);
  }
  return [...groups].map(([subject, list]) => ({
    subject,
    findings: list.map((f, i) => ({ f, i })).sort((a, b) => RANK[a.f.severity] - RANK[b.f.severity] || a.i - b.i).map((x) => x.f),
  }));
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `2 errors, 1 warning` (and `, 3 info` when there are notes). */
export function summaryLine(findings: readonly Finding[]): string {
  const s = summarizeFindings(findings);
  return `${plural(s.errors, 'error')}, ${plural(s.warnings, 'warning')}${s.info ? `, ${s.info} info` : ''}`;
}

/**
 * "nodes/<any>/server.pem" (a * per differing segment) for subjects that differ in the same path segments only; otherwise the first
 * subject and "…". For a summary line, never for matching.
 */
function subjectPattern(subjects: readonly string[]): string {
  const split = subjects.map((s) => s.split('/'));
  const first = split[0] as string[];
  if (!split.every((parts) => parts.length === first.length)) return `${subjects[0]} and ${subjects.length - 1} more`;
  return first.map((seg, i) => (split.every((parts) => parts[i] === seg) ? seg : '*')).join('/');
}

/**
 * The same finding (code, severity, message, fix) on several subjects becomes one, whose subject says
 * how many and which: a generated 300-member directory gives one "config-file-ignores-flags" line, not
 * 300. Text output only: `--json` keeps every instance.
 */
export function collapseRepeatedFindings(findings: readonly Finding[]): Finding[] {
  const byKey = new Map<string, Finding[]>();
  for (const f of findings) {
    const key = `${f.code}\0${f.severity}\0${f.message}\0${f.fix}`;
    const list = byKey.get(key);
    if (list) list.push(f);
    else byKey.set(key, [f]);
  }
  const out: Finding[] = [];
  for (const list of byKey.values()) {
    const subjects = [...new Set(list.map((f) => f.subject))];
    const first = list[0] as Finding;
    // Two are clearer named apiece; from three on, one line.
    if (subjects.length < 3) out.push(...list);
    else out.push({ ...first, subject: `${subjects.length} files: ${subjectPattern(subjects)}` });
  }
  return out;
}

/**
 * Text for people: one block per subject (a finding repeated on several subjects is one block naming
 * how many), each finding as `severity code: message`, then its fix and
 * related catalogue ids, and a summary line at the end.
 *
 * @example
 *   renderFindingsText([{ code: 'cert-expired', severity: 'error', subject: 'server.pem', message: '...', fix: '...' }])
 *   // "server.pem\n  error    cert-expired: ...\n           fix: ...\n\n1 error, 0 warnings\n"
 */
export function renderFindingsText(findings: readonly Finding[]): string {
  const pad = ' '.repeat(11);
  const blocks = groupFindings(collapseRepeatedFindings(findings)).map(({ subject, findings: list }) =>
    [
      subject,
      ...list.flatMap((f) => [
        `  ${f.severity.padEnd(8)} ${f.code}: ${f.message}`,
        `${pad}fix: ${f.fix}`,
        ...(f.seeAlso?.length ? [`${pad}see: ${f.seeAlso.join(', ')}`] : []),
      ]),
    ].join('\n'),
  );
  return `${blocks.map((b) => `${b}\n\n`).join('')}${summaryLine(findings)}\n`;
}

/** JSON for scripts: `{ ok, summary, findings }`, plus any `extra` top-level fields (e.g. what was checked). */
export function renderFindingsJson(findings: readonly Finding[], extra: Record<string, unknown> = {}): string {
  const body = { ok: !hasErrors(findings), summary: summarizeFindings(findings), ...extra, findings };
  return `${JSON.stringify(body, null, 2)}\n`;
}
