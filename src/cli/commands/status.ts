/** `etcd-tls status [DIR]`: expiry of every certificate, key, CA and CRL, for people, scripts and Prometheus. */
import * as path from 'node:path';
import { fail } from '../../errors.js';
import { parseDuration } from '../../pki/duration.js';
import { collectStatus, type Level, type StatusEntry, type StatusReport } from '../../lifecycle/status.js';
import { dirArgument, parseFlags, renderFlagHelp, type FlagDefs } from '../args.js';
import type { CliIo } from '../io.js';

/** Exit codes for cron and monitoring (1 is bad input, 2 an internal fault, as for every command). */
export const STATUS_EXIT = { ok: 0, warn: 3, critical: 4 } as const satisfies Record<Level, number>;

const FLAGS = {
  warn: { type: 'string', value: 'DURATION', description: 'warn when something expires within DURATION (default 30d); exit 3' },
  critical: { type: 'string', value: 'DURATION', description: 'critical within DURATION (default 7d), or expired/missing/revoked; exit 4' },
  'etcd-env': { type: 'string', multiple: true, value: 'FILE', description: "also grade the files an etcd host's etcd.env names (repeatable)" },
  now: { type: 'string', value: 'TIME', description: 'grade as of this ISO 8601 time instead of now' },
  json: { type: 'boolean', description: 'print JSON (shape in docs/day2.md, modelled on kubeadm certs check-expiration -o json)' },
  prometheus: { type: 'boolean', description: "print Prometheus text exposition format (node_exporter's textfile collector)" },
} satisfies FlagDefs;

export function help(): string {
  return [
    'Usage: etcd-tls status [DIR] [--warn 30d] [--critical 7d] [--etcd-env FILE]... [--json | --prometheus]',
    '',
    'Every certificate and CA in DIR (default ./etcd-tls-pki) in one table: name, role, subject, expiry',
    'date, time left, key type, issuer; MISSING for files the layout expects but lacks; the CRL with its',
    'nextUpdate. Reads only. Exit status: 0 all fine, 3 something within --warn (or a CRL past half its',
    'validity), 4 something within --critical, expired, missing, revoked or a CRL that etcd would refuse;',
    '1 bad input.',
    '',
    'Options:',
    renderFlagHelp(FLAGS),
    '',
    'Examples:',
    '  etcd-tls status pki',
    '  etcd-tls status pki --json | jq \'.certificates[] | select(.residualSeconds < 2592000)\'',
    '  */15 * * * *  etcd-tls status /srv/pki --prometheus > /var/lib/node_exporter/etcd_tls.prom.tmp && mv /var/lib/node_exporter/etcd_tls.prom.tmp /var/lib/node_exporter/etcd_tls.prom',
    '',
  ].join('\n');
}

const DAY = 86_400_000;
/** `364d 23h`, `5h 10m`, `42s`; negative: `expired 2d 3h ago`. */
export function formatTimeLeft(ms: number): string {
  const abs = Math.abs(ms);
  const d = Math.floor(abs / DAY);
  const h = Math.floor((abs % DAY) / 3_600_000);
  const m = Math.floor((abs % 3_600_000) / 60_000);
  const text = d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m` : `${Math.floor(abs / 1000)}s`;
  return ms < 0 ? `expired ${text} ago` : text;
}

const iso = (d: Date | undefined): string | null => (d ? d.toISOString().replace('.000Z', 'Z') : null);

export function renderTable(r: StatusReport): string {
  const rel = (f: string): string => (f.startsWith(r.dir + path.sep) ? path.relative(r.dir, f) : f);
  const rows = r.entries.map((e) => [
    e.name,
    e.role,
    e.missing ? 'MISSING' : e.level === 'ok' ? 'ok' : e.level.toUpperCase(),
    e.subject ?? (e.role.startsWith('crl') && e.revokedCount !== undefined ? `${e.revokedCount} revoked, #${e.crlNumber ?? '?'}` : ''),
    e.notAfter ? e.notAfter.toISOString().slice(0, 16).replace('T', ' ') : '',
    e.notAfter ? formatTimeLeft(e.notAfter.getTime() - r.now.getTime()) : '',
    e.keyType ?? '',
    e.issuer ?? '',
    [...e.problems, ...(e.missing || e.level !== 'ok' ? [rel(e.file)] : [])].join('; '),
  ]);
  const head = ['NAME', 'ROLE', 'STATUS', 'SUBJECT', 'NOT AFTER (UTC)', 'TIME LEFT', 'KEY', 'ISSUER', 'NOTES'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ').trimEnd();
  const counts = { ok: 0, warn: 0, critical: 0 };
  for (const e of r.entries) counts[e.level]++;
  const rot = r.rotation;
  const rotation = rot
    ? `\nCA rotation in progress (${rel(rot.file)}): phase ${rot.phase}, ${rot.phaseTitle}; ${rot.done} of ${rot.total} steps done${rot.next ? `; next: ${rot.next.title}` : ''}. Continue with \`etcd-tls rotate-ca --spec SPEC --out DIR\`.\n`
    : '';
  return `${[line(head), ...rows.map(line)].join('\n')}\n${rotation}\n${r.level.toUpperCase()}: ${counts.critical} critical, ${counts.warn} warning(s), ${counts.ok} ok (warn within ${formatTimeLeft(r.warnMs)}, critical within ${formatTimeLeft(r.criticalMs)})\n`;
}

/** The JSON shape documented in docs/day2.md ("status --json"). */
export function statusJson(r: StatusReport): object {
  const item = (e: StatusEntry): object => ({
    name: e.name,
    role: e.role,
    file: e.file,
    missing: e.missing,
    status: e.level,
    problems: e.problems,
    subject: e.subject ?? null,
    issuer: e.issuer ?? null,
    serial: e.serial ?? null,
    keyType: e.keyType ?? null,
    notBefore: iso(e.notBefore),
    expirationDate: iso(e.notAfter),
    residualSeconds: e.notAfter ? Math.floor((e.notAfter.getTime() - r.now.getTime()) / 1000) : null,
    residualTime: e.notAfter ? formatTimeLeft(e.notAfter.getTime() - r.now.getTime()) : null,
    caName: e.caName ?? null,
    revoked: e.revoked ?? false,
    ...(e.role === 'crl' || e.role === 'crl-copy' ? { crlNumber: e.crlNumber ?? null, revokedCount: e.revokedCount ?? null } : {}),
  });
  return {
    kind: 'EtcdTlsStatus',
    version: 1,
    dir: r.dir,
    now: iso(r.now),
    warnSeconds: r.warnMs / 1000,
    criticalSeconds: r.criticalMs / 1000,
    status: r.level,
    exitCode: STATUS_EXIT[r.level],
    certificateAuthorities: r.entries.filter((e) => e.role === 'ca').map(item),
    certificates: r.entries.filter((e) => e.role === 'server' || e.role === 'peer' || e.role === 'client').map(item),
    crls: r.entries.filter((e) => e.role === 'crl' || e.role === 'crl-copy').map(item),
    other: r.entries.filter((e) => e.role === 'key' || e.role === 'ca-copy').map(item),
    rotation: r.rotation ? { file: r.rotation.file, phase: r.rotation.phase, phaseTitle: r.rotation.phaseTitle, stepsDone: r.rotation.done, steps: r.rotation.total, next: r.rotation.next ?? null } : null,
  };
}

// Prometheus label values: backslash, double quote and newline escaped (text format 0.0.4).
const label = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const LEVEL_VALUE: Record<Level, number> = { ok: 0, warn: 1, critical: 2 };

export function renderPrometheus(r: StatusReport): string {
  const out: string[] = [];
  const family = (name: string, help: string, samples: [Record<string, string>, number][]): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [labels, value] of samples) {
      const l = Object.entries(labels).map(([k, v]) => `${k}="${label(v)}"`).join(',');
      out.push(`${name}{${l}} ${value}`);
    }
  };
  const certs = r.entries.filter((e) => ['ca', 'server', 'peer', 'client'].includes(e.role));
  const labelsOf = (e: StatusEntry): Record<string, string> => ({ dir: r.dir, name: e.name, role: e.role, file: e.file });
  const present = certs.filter((e) => e.notAfter);
  family('etcd_tls_certificate_not_after_seconds', 'Certificate notAfter as a Unix timestamp.', present.map((e) => [{ ...labelsOf(e), subject: e.subject ?? '', serial: e.serial ?? '' }, Math.floor((e.notAfter as Date).getTime() / 1000)]));
  family('etcd_tls_certificate_not_before_seconds', 'Certificate notBefore as a Unix timestamp.', present.map((e) => [labelsOf(e), Math.floor((e.notBefore as Date).getTime() / 1000)]));
  family('etcd_tls_certificate_missing', '1 when a file the layout expects does not exist.', r.entries.filter((e) => e.role !== 'crl' && e.role !== 'crl-copy').filter((e) => e.missing || certs.includes(e)).map((e) => [labelsOf(e), e.missing ? 1 : 0]));
  family('etcd_tls_certificate_revoked', "1 when the certificate's serial is in DIR's revocation record.", present.map((e) => [labelsOf(e), e.revoked ? 1 : 0]));
  const crls = r.entries.filter((e) => e.role === 'crl' || (e.role === 'crl-copy' && e.level !== 'ok'));
  family('etcd_tls_crl_next_update_seconds', 'CRL nextUpdate as a Unix timestamp.', crls.filter((e) => e.notAfter).map((e) => [{ dir: r.dir, name: e.name, file: e.file }, Math.floor((e.notAfter as Date).getTime() / 1000)]));
  family('etcd_tls_crl_revoked_certificates', 'Number of entries in the CRL.', crls.filter((e) => e.revokedCount !== undefined).map((e) => [{ dir: r.dir, name: e.name, file: e.file }, e.revokedCount as number]));
  family('etcd_tls_status', 'Worst grade of anything in DIR: 0 ok, 1 warn, 2 critical (the exit status of status is 0, 3, 4).', [[{ dir: r.dir }, LEVEL_VALUE[r.level]]]);
  family('etcd_tls_status_timestamp_seconds', 'When this status was computed, as a Unix timestamp.', [[{ dir: r.dir }, Math.floor(r.now.getTime() / 1000)]]);
  return `${out.join('\n')}\n`;
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseFlags('status', args, FLAGS);
  if (flags.json && flags.prometheus) throw fail('USAGE', 'status: --json and --prometheus are exclusive');
  const warnMs = parseDuration(flags.warn ?? '30d', '--warn');
  const criticalMs = parseDuration(flags.critical ?? '7d', '--critical');
  if (criticalMs > warnMs) throw fail('BAD_DURATION', `--critical ${flags.critical} is longer than --warn ${flags.warn ?? '30d'}`);
  let now: Date | undefined;
  if (flags.now !== undefined) {
    now = new Date(flags.now);
    if (Number.isNaN(now.getTime())) throw fail('BAD_DURATION', `--now: "${flags.now}" is not an ISO 8601 time (e.g. 2027-01-31T12:00:00Z)`);
  }
  const report = collectStatus(dirArgument('status', positionals), { warnMs, criticalMs, ...(now ? { now } : {}), etcdEnvFiles: flags['etcd-env'] ?? [] });
  if (flags.json) io.out(`${JSON.stringify(statusJson(report), null, 2)}\n`);
  else if (flags.prometheus) io.out(renderPrometheus(report));
  else io.out(renderTable(report));
  return STATUS_EXIT[report.level];
}
