/**
 * `etcd-tls report`: the inventory of lifecycle/status (every certificate of DIR, graded) and the
 * findings of `check`, gathered into one ReportModel for the HTML renderer. Reads only.
 */
import * as path from 'node:path';
import { runCheck } from '../doctor/check/check.js';
import { collectStatus, type StatusEntry } from '../lifecycle/status.js';
import { parseCertificate, type ParsedCertificate } from '../pki/certificate.js';
import { describeKeySpec } from '../pki/keys.js';
import { parseCertificatePem, parsePemCertificates } from '../pki/pem.js';
import { renewalWindowMs } from '../pki/renewal.js';
import { readTextFile } from '../store/files.js';
import type { CertificateRole, ReportCertificate, ReportModel } from './model.js';

export interface ReportOptions {
  now?: Date;
  /** Status thresholds (default 30 days / 7 days, as `status`). */
  warnMs?: number;
  criticalMs?: number;
}

const DAY = 86_400_000;
const SEVERITY_RANK = { error: 0, warning: 1, info: 2 } as const;

const commonNameOf = (facts: ParsedCertificate): string => facts.subject.attributes.find((a) => a.type === 'CN')?.value ?? facts.subject.text;

function caEntry(facts: ParsedCertificate, name: string, base: StatusEntry | undefined, now: Date): ReportCertificate {
  const expired = facts.notAfter.getTime() <= now.getTime();
  return {
    name,
    role: 'ca',
    bundle: 'ca',
    commonName: commonNameOf(facts),
    subject: facts.subject.text,
    issuedBy: name,
    sans: [],
    keyType: describeKeySpec(facts.publicKey),
    notBefore: facts.notBefore,
    notAfter: facts.notAfter,
    renewalWindowMs: renewalWindowMs(facts.notAfter.getTime() - facts.notBefore.getTime()),
    level: base?.level ?? (expired ? 'critical' : 'ok'),
    problems: base?.problems ?? (expired ? ['expired'] : []),
  };
}

/**
 * Build the report of DIR. Errors: those of collectStatus and runCheck (FILE_NOT_FOUND, BAD_PEM…).
 *
 * @example
 *   const model = await buildReport('pki', { now: new Date('2027-01-01T00:00:00Z') });
 *   fs.writeFileSync('pki.html', renderReportHtml(model));
 */
export async function buildReport(dir: string, options: ReportOptions = {}): Promise<ReportModel> {
  const now = options.now ?? new Date();
  const status = collectStatus(dir, { now, warnMs: options.warnMs ?? 30 * DAY, criticalMs: options.criticalMs ?? 7 * DAY });
  const caStatus = status.entries.find((e) => e.role === 'ca' && e.name === 'ca' && !e.missing && e.notAfter);
  // status grades the first certificate of ca.pem; during a CA rotation the bundle holds two.
  const caFile = path.join(status.dir, 'ca.pem');
  const caFacts = caStatus ? parsePemCertificates(readTextFile(caFile, 'CA bundle'), caFile).map((der) => parseCertificate(der, caFile)) : [];
  const cas = caFacts.map((f, i) => caEntry(f, i === 0 ? 'ca' : `ca #${i + 1}`, i === 0 ? caStatus : undefined, now));

  const leaves: ReportCertificate[] = [];
  const otherProblems: ReportModel['otherProblems'] = [];
  for (const e of status.entries) {
    const isLeaf = e.role === 'server' || e.role === 'peer' || e.role === 'client';
    if (isLeaf && !e.missing && e.notBefore && e.notAfter) {
      const facts = parseCertificate(parseCertificatePem(readTextFile(e.file, 'certificate'), e.file), e.file);
      const issuer = caFacts.findIndex((ca) => ca.subjectDer.equals(facts.issuerDer));
      leaves.push({
        name: e.name,
        role: e.role as CertificateRole,
        bundle: e.name.split('/')[0] ?? e.name,
        commonName: commonNameOf(facts),
        subject: facts.subject.text,
        issuedBy: issuer < 0 ? 'unknown' : (cas[issuer]?.name ?? 'unknown'),
        sans: e.sans ?? [],
        keyType: e.keyType ?? '',
        notBefore: e.notBefore,
        notAfter: e.notAfter,
        renewalWindowMs: renewalWindowMs(e.notAfter.getTime() - e.notBefore.getTime()),
        level: e.level,
        // Another CA of the bundle is not a problem during a rotation.
        problems: issuer > 0 ? e.problems.filter((p) => p !== "not issued by DIR's CA") : e.problems,
      });
    } else if (e.level !== 'ok' && e.role !== 'ca') otherProblems.push({ name: e.name, problems: e.problems });
    else if (e.role === 'ca' && e.missing) otherProblems.push({ name: e.name, problems: e.problems });
  }
  const check = await runCheck({ dir: status.dir, now });
  const findings = [...check.findings].sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]);
  return { dir: status.dir, now, cas, leaves, otherProblems, findings };
}
