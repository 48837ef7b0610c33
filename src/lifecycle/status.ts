/**
 * `etcd-tls status`: every certificate, key, CA and CRL of a DIR (and, optionally, the files an etcd
 * host's etcd.env points at) with its expiry, graded against two thresholds. Reads only.
 *
 * Grading: `critical` — expired, within --critical, missing, revoked, a key that does not match, a
 * CRL that is expired, unparsable or not signed by the CA; `warn` — within --warn, a CRL past half
 * its validity or a bundle's CRL copy that differs from DIR/crl.der; `ok` otherwise.
 */
import { parseCertificatePem } from '../pki/pem.js';
import * as fs from 'node:fs';
import { NEXT_CA_CERT } from '../cluster/layout.js';
import { rotationStatus, type RotationStatus } from '../cluster/rotation-state.js';
import * as path from 'node:path';
import { isEtcdTlsError } from '../errors.js';
import { parseCertificate, type ParsedCertificate } from '../pki/certificate.js';
import { crlSignedBy, parseCrl, type CrlView } from '../pki/crl.js';
import { describeKeySpec, isEncryptedKeyPem, privateKeyPemMatches } from '../pki/keys.js';
import { parseEtcdEnvFile } from '../etcd/config.js';
import { readTextFile } from '../store/files.js';
import { readRevocationRecord } from '../cluster/crl.js';
import { scanPkiDir, type PkiDir } from './pki-dir.js';

export type Level = 'ok' | 'warn' | 'critical';
export type StatusRole = 'ca' | 'server' | 'peer' | 'client' | 'key' | 'ca-copy' | 'crl' | 'crl-copy';

export interface StatusEntry {
  /** `ca`, `member1/server`, `admin`, `member1/server key`, `crl`, `etcd-env:cert-file`… */
  name: string;
  role: StatusRole;
  /** Absolute path. */
  file: string;
  missing: boolean;
  level: Level;
  /** What is wrong, in words (empty when nothing is). */
  problems: string[];
  subject?: string;
  issuer?: string;
  serial?: string;
  notBefore?: Date;
  /** Certificates: notAfter; CRLs: nextUpdate. */
  notAfter?: Date;
  keyType?: string;
  /** Subject alternative names: DNS names, IPs, emails, URIs. */
  sans?: string[];
  revoked?: boolean;
  /** Name of the CA that signed it (kubeadm's caName): `ca` for DIR's CA. */
  caName?: string;
  crlNumber?: string;
  revokedCount?: number;
}

export interface StatusReport {
  dir: string;
  now: Date;
  warnMs: number;
  criticalMs: number;
  entries: StatusEntry[];
  level: Level;
  /** A CA rotation under way in DIR: its phase and next step. */
  rotation?: RotationStatus;
}

export interface StatusOptions {
  now?: Date;
  warnMs: number;
  criticalMs: number;
  /** etcd.env files of etcd hosts: the certificate, key, CA and CRL files they name are graded too. */
  etcdEnvFiles?: readonly string[];
}

const worse = (a: Level, b: Level): Level => (a === 'critical' || b === 'critical' ? 'critical' : a === 'warn' || b === 'warn' ? 'warn' : 'ok');

interface Ca {
  facts?: ParsedCertificate;
  /** During a CA rotation: the next CA (DIR/ca-next.pem), whose leaves are as good as the CA's. */
  next?: ParsedCertificate;
}

function gradeExpiry(notAfter: Date, now: Date, o: StatusOptions): { level: Level; problem?: string } {
  const left = notAfter.getTime() - now.getTime();
  if (left <= 0) return { level: 'critical', problem: 'expired' };
  if (left <= o.criticalMs) return { level: 'critical', problem: 'expires within the critical threshold' };
  if (left <= o.warnMs) return { level: 'warn', problem: 'expires within the warning threshold' };
  return { level: 'ok' };
}

function missingEntry(name: string, role: StatusRole, file: string): StatusEntry {
  return { name, role, file, missing: true, level: 'critical', problems: ['missing'] };
}

function readFacts(file: string): { facts?: ParsedCertificate; problem?: string } {
  try {
    return { facts: parseCertificate(parseCertificatePem(fs.readFileSync(file, 'utf8'), file), file) };
  } catch (e) {
    if (isEtcdTlsError(e)) return { problem: e.message.replace(`${file}: `, '') };
    throw e;
  }
}

function certificateEntry(name: string, role: StatusRole, file: string, ca: Ca, revoked: ReadonlySet<string>, now: Date, o: StatusOptions): { entry: StatusEntry; facts?: ParsedCertificate } {
  if (!fs.existsSync(file)) return { entry: missingEntry(name, role, file) };
  const { facts, problem } = readFacts(file);
  if (!facts) return { entry: { name, role, file, missing: false, level: 'critical', problems: [problem ?? 'unreadable'] } };
  const problems: string[] = [];
  const expiry = gradeExpiry(facts.notAfter, now, o);
  let level = expiry.level;
  if (expiry.problem) problems.push(expiry.problem);
  if (facts.notBefore.getTime() > now.getTime()) {
    level = 'critical';
    problems.push('not valid yet');
  }
  const signedBy = (c: ParsedCertificate | undefined): boolean =>
    c !== undefined && facts.issuerDer.equals(c.subjectDer) && (!c.subjectKeyId || !facts.authorityKeyId || facts.authorityKeyId === c.subjectKeyId);
  const fromNext = role !== 'ca' && signedBy(ca.next);
  const fromCa = fromNext || (ca.facts !== undefined && facts.issuerDer.equals(ca.facts.subjectDer));
  if (role !== 'ca' && !fromCa) {
    level = 'critical';
    problems.push("not issued by DIR's CA");
  }
  const serial = facts.serialHex.replace(/^(00)+(?=.)/, '').replace(/^0(?=.)/, '');
  const isRevoked = revoked.has(serial);
  if (isRevoked) {
    level = 'critical';
    problems.push('revoked');
  }
  return {
    facts,
    entry: {
      name,
      role,
      file,
      missing: false,
      level,
      problems,
      subject: facts.subject.text,
      issuer: role === 'ca' ? facts.subject.text : fromNext ? `${ca.next?.subject.text} (next CA)` : fromCa ? (ca.facts?.subject.text as string) : 'another CA',
      serial,
      notBefore: facts.notBefore,
      notAfter: facts.notAfter,
      keyType: describeKeySpec(facts.publicKey),
      sans: [...facts.sans.dns, ...facts.sans.ips, ...facts.sans.emails, ...facts.sans.uris],
      revoked: isRevoked,
      caName: role === 'ca' ? 'ca' : fromCa ? 'ca' : 'unknown',
    },
  };
}

function keyEntry(name: string, file: string, facts: ParsedCertificate | undefined, caKey: boolean): StatusEntry | undefined {
  if (!fs.existsSync(file)) {
    // A CA key kept offline is a choice (signing commands then need it back), not a broken bundle.
    return caKey
      ? { name, role: 'key', file, missing: true, level: 'warn', problems: ['missing (signing commands need it)'] }
      : missingEntry(name, 'key', file);
  }
  if (!facts) return undefined;
  const pem = fs.readFileSync(file, 'utf8');
  if (isEncryptedKeyPem(pem)) return undefined; // cannot be matched without the passphrase
  try {
    return privateKeyPemMatches(pem, facts.spki, file) ? undefined : { name, role: 'key', file, missing: false, level: 'critical', problems: ['does not match its certificate'] };
  } catch (e) {
    if (isEtcdTlsError(e)) return { name, role: 'key', file, missing: false, level: 'critical', problems: [e.message.replace(`${file}: `, '')] };
    throw e;
  }
}

function crlEntry(name: string, file: string, ca: Ca, now: Date, top?: Buffer): { entry: StatusEntry; bytes?: Buffer } {
  const role: StatusRole = top === undefined ? 'crl' : 'crl-copy';
  if (!fs.existsSync(file)) return { entry: { ...missingEntry(name, role, file), problems: ['missing: etcd refuses every connection while its CRL file is missing'] } };
  const bytes = fs.readFileSync(file);
  if (top !== undefined) {
    return bytes.equals(top)
      ? { entry: { name, role, file, missing: false, level: 'ok', problems: [] }, bytes }
      : { entry: { name, role, file, missing: false, level: 'warn', problems: ['differs from DIR/crl.der: copy it (etcd enforces the copy it reads)'] }, bytes };
  }
  let view: CrlView;
  try {
    view = parseCrl(bytes, file);
  } catch (e) {
    if (isEtcdTlsError(e)) return { entry: { name, role, file, missing: false, level: 'critical', problems: ['not a valid CRL: etcd refuses every connection while it cannot parse it'] }, bytes };
    throw e;
  }
  const problems: string[] = [];
  let level: Level = 'ok';
  if (ca.facts && !crlSignedBy(view, ca.facts.der)) {
    level = 'critical';
    problems.push("not signed by DIR's CA");
  }
  if (!view.nextUpdate) problems.push('no nextUpdate');
  else if (view.nextUpdate.getTime() <= now.getTime()) {
    level = 'critical';
    problems.push('stale: nextUpdate has passed (run etcd-tls crl)');
  } else if (now.getTime() >= (view.thisUpdate.getTime() + view.nextUpdate.getTime()) / 2) {
    level = worse(level, 'warn');
    problems.push('past half its validity (run etcd-tls crl)');
  }
  return {
    entry: {
      name,
      role,
      file,
      missing: false,
      level,
      problems,
      ...(view.nextUpdate ? { notAfter: view.nextUpdate } : {}),
      notBefore: view.thisUpdate,
      ...(view.crlNumber !== undefined ? { crlNumber: view.crlNumber.toString() } : {}),
      revokedCount: view.revoked.length,
      issuer: ca.facts?.subject.text ?? '',
      caName: 'ca',
    },
    bytes,
  };
}

/** The files an etcd.env names, graded like DIR's. */
function etcdEnvEntries(envFile: string, ca: Ca, revoked: ReadonlySet<string>, now: Date, o: StatusOptions): StatusEntry[] {
  const source = parseEtcdEnvFile(readTextFile(envFile, 'etcd environment file'), envFile);
  const setting = (flag: string): string | undefined => source.settings.find((s) => s.flag === flag)?.value;
  const label = (flag: string): string => `${path.basename(path.dirname(path.resolve(envFile)))}:${flag}`;
  const out: StatusEntry[] = [];
  for (const [certFlag, keyFlag, role] of [['cert-file', 'key-file', 'server'], ['peer-cert-file', 'peer-key-file', 'peer']] as const) {
    const cert = setting(certFlag);
    if (!cert) continue;
    const { entry, facts } = certificateEntry(label(certFlag), role, cert, ca, revoked, now, o);
    out.push(entry);
    const key = setting(keyFlag);
    if (key) {
      const k = keyEntry(label(keyFlag), key, facts, false);
      if (k) out.push(k);
    }
  }
  for (const flag of ['trusted-ca-file', 'peer-trusted-ca-file'])
    if (setting(flag)) out.push(certificateEntry(label(flag), 'ca', setting(flag) as string, ca, revoked, now, o).entry);
  const crls = new Set(['client-crl-file', 'peer-crl-file'].map(setting).filter((f): f is string => Boolean(f)));
  for (const f of crls) out.push(crlEntry(label(f === setting('client-crl-file') ? 'client-crl-file' : 'peer-crl-file'), f, ca, now).entry);
  return out;
}

/**
 * Grade everything in DIR. Errors: FILE_NOT_FOUND (no DIR or no ca.pem), BAD_REVOCATION_RECORD.
 *
 * @example
 *   const r = collectStatus('pki', { warnMs: 30 * 86_400_000, criticalMs: 7 * 86_400_000 });
 *   r.level; // 'ok' | 'warn' | 'critical'
 */
export function collectStatus(dirArg: string, options: StatusOptions): StatusReport {
  const now = options.now ?? new Date();
  const pki: PkiDir = scanPkiDir(dirArg);
  const revoked = new Set(readRevocationRecord(pki.record).revoked.map((r) => r.serial));
  const entries: StatusEntry[] = [];
  const caResult = certificateEntry('ca', 'ca', pki.caCert, {}, revoked, now, options);
  // Mid-rotation the next CA is listed too, and its leaves are not "from another CA".
  const rotation = rotationStatus(pki.dir);
  const nextFile = path.join(pki.dir, NEXT_CA_CERT);
  const nextResult = fs.existsSync(nextFile) ? certificateEntry('ca-next', 'ca', nextFile, {}, revoked, now, options) : undefined;
  const ca: Ca = { ...(caResult.facts ? { facts: caResult.facts } : {}), ...(nextResult?.facts ? { next: nextResult.facts } : {}) };
  entries.push(caResult.entry);
  if (nextResult) entries.push(nextResult.entry);
  const caKey = keyEntry('ca key', pki.caKey, caResult.facts, true);
  if (caKey) entries.push(caKey);
  const topCrl = crlEntry('crl', pki.crl, ca, now);
  entries.push(topCrl.entry);
  for (const bundle of [...pki.members, ...pki.clients]) {
    for (const leaf of bundle.leaves) {
      const { entry, facts } = certificateEntry(leaf.name, leaf.role, leaf.cert, ca, revoked, now, options);
      entries.push(entry);
      const key = keyEntry(`${leaf.name} key`, leaf.key, facts, false);
      if (key) entries.push(key);
    }
    // The bundle's copies of ca.pem and crl.der: listed only when something is wrong with them.
    const caCopy = fs.existsSync(bundle.ca) ? undefined : missingEntry(`${bundle.name} ca.pem`, 'ca-copy', bundle.ca);
    if (caCopy) entries.push(caCopy);
    const crlCopy = crlEntry(`${bundle.name} crl`, bundle.crl, ca, now, topCrl.bytes ?? Buffer.alloc(0)).entry;
    if (crlCopy.level !== 'ok') entries.push(crlCopy);
  }
  for (const env of options.etcdEnvFiles ?? []) entries.push(...etcdEnvEntries(env, ca, revoked, now, options));
  return {
    dir: pki.dir,
    now,
    warnMs: options.warnMs,
    criticalMs: options.criticalMs,
    entries,
    level: entries.reduce<Level>((l, e) => worse(l, e.level), 'ok'),
    ...(rotation ? { rotation } : {}),
  };
}
