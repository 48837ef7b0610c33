/**
 * The CRL of a DIR and its revocation record: the file formats and the signing, shared by `gen`
 * (cluster/) and the day-2 commands (lifecycle/).
 *
 * DIR/revoked.json — the record, the source of truth the CRL is signed from:
 *
 *   { "format": 1,
 *     "crlNumber": "3",                      // the last CRL number signed (decimal string: it may pass 2^53)
 *     "revoked": [ { "serial": "7a1b…",       // lower-case hex, no leading zeros
 *                    "revokedAt": "2026-03-01T12:00:00Z",
 *                    "reason": "keyCompromise",
 *                    "certificate": "clients/admin/client.pem",   // when it was found in DIR
 *                    "subject": "CN=root", "notAfter": "2027-03-01T12:00:00Z" } ] }
 *
 * DIR/crl.der — the CRL (DER) signed by the CA from that record, copied byte for byte into every
 * nodes/<member>/ and clients/<client>/ folder. Each signature takes the next CRL number.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fail, isEtcdTlsError } from '../errors.js';
import type { Issuer } from '../pki/certificate.js';
import { crlSignedBy, CRL_REASONS, isCrlReason, issueCrl, parseCrl, type CrlReason, type CrlView } from '../pki/crl.js';
import { parseDuration } from '../pki/duration.js';
import { PUBLIC_FILE_MODE, type FileToWrite } from '../store/files.js';

/** How long a CRL is valid by default: re-sign it daily from cron (`etcd-tls crl`), it lasts a week. */
export const DEFAULT_CRL_VALIDITY = '168h';

export interface RevokedRecordEntry {
  serial: string;
  revokedAt: string;
  reason: CrlReason;
  certificate?: string;
  subject?: string;
  notAfter?: string;
}

export interface RevocationRecord {
  crlNumber: bigint;
  revoked: RevokedRecordEntry[];
}

export const emptyRecord = (): RevocationRecord => ({ crlNumber: 0n, revoked: [] });

const bad = (source: string, problem: string): Error =>
  fail('BAD_REVOCATION_RECORD', `${source}: ${problem}; nothing was written (restore it from a backup, or fix the field)`);

/** Parse revoked.json; every field is checked, so a CRL is never signed from a half-understood record. */
export function parseRevocationRecord(text: string, source: string): RevocationRecord {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw bad(source, `not valid JSON (${(e as Error).message})`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw bad(source, 'expected a JSON object');
  const o = data as Record<string, unknown>;
  if (o.format !== 1) throw bad(source, `"format" must be 1, found ${JSON.stringify(o.format)}`);
  if (typeof o.crlNumber !== 'string' || !/^\d{1,40}$/.test(o.crlNumber)) throw bad(source, '"crlNumber" must be a decimal string');
  if (!Array.isArray(o.revoked)) throw bad(source, '"revoked" must be a list');
  const revoked = o.revoked.map((e: unknown, i): RevokedRecordEntry => {
    const at = `revoked[${i}]`;
    if (typeof e !== 'object' || e === null) throw bad(source, `${at} must be an object`);
    const r = e as Record<string, unknown>;
    if (typeof r.serial !== 'string' || !/^[0-9a-f]{1,40}$/.test(r.serial)) throw bad(source, `${at}.serial must be lower-case hex`);
    if (typeof r.revokedAt !== 'string' || Number.isNaN(Date.parse(r.revokedAt))) throw bad(source, `${at}.revokedAt must be an ISO date`);
    if (typeof r.reason !== 'string' || !isCrlReason(r.reason)) throw bad(source, `${at}.reason must be one of ${Object.keys(CRL_REASONS).join(', ')}`);
    const opt = (k: 'certificate' | 'subject' | 'notAfter'): Record<string, string> => {
      if (r[k] === undefined) return {};
      if (typeof r[k] !== 'string') throw bad(source, `${at}.${k} must be a string`);
      return { [k]: r[k] as string };
    };
    return { serial: r.serial, revokedAt: r.revokedAt, reason: r.reason, ...opt('certificate'), ...opt('subject'), ...opt('notAfter') };
  });
  return { crlNumber: BigInt(o.crlNumber), revoked };
}

export function renderRevocationRecord(record: RevocationRecord): string {
  return `${JSON.stringify({ format: 1, crlNumber: record.crlNumber.toString(), revoked: record.revoked }, null, 2)}\n`;
}

/** The record in DIR; a missing file is an empty record (a DIR from before revocation existed). */
export function readRevocationRecord(file: string): RevocationRecord {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyRecord();
    throw fail('BAD_REVOCATION_RECORD', `${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); nothing was written`);
  }
  return parseRevocationRecord(text, file);
}

/** Normalize a serial as given by a user (hex, optional 0x, colons) to the record's form. */
export function normalizeSerial(input: string): string | undefined {
  const hex = input.trim().toLowerCase().replace(/^0x/, '').replace(/:/g, '');
  if (!/^[0-9a-f]{1,40}$/.test(hex)) return undefined;
  return hex.replace(/^0+(?=.)/, '');
}

/** Where a DIR's CRL goes: the top copy and one per bundle, with the record beside the top one. */
export interface CrlTargets {
  file: string;
  record: string;
  copies: readonly string[];
}

export interface SignedCrl {
  der: Buffer;
  record: RevocationRecord;
  thisUpdate: Date;
  nextUpdate: Date;
  files: FileToWrite[];
}

/**
 * Sign the CRL of `record` with the next CRL number and return the files to write as one batch: the
 * record, the top CRL and every copy. Pure apart from the signature.
 */
export function signCrl(issuer: Issuer, record: RevocationRecord, targets: CrlTargets, now: Date, validityMs: number): SignedCrl {
  const thisUpdate = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const nextUpdate = new Date(thisUpdate.getTime() + validityMs);
  const next: RevocationRecord = { crlNumber: record.crlNumber + 1n, revoked: record.revoked };
  const der = Buffer.from(
    issueCrl({
      issuerCertificateDer: issuer.cert.der,
      issuerPrivateKey: issuer.privateKey,
      revoked: record.revoked.map((r) => ({ serial: BigInt(`0x${r.serial}`), revokedAt: new Date(r.revokedAt), reason: r.reason })),
      thisUpdate,
      nextUpdate,
      crlNumber: next.crlNumber,
    }),
  );
  const files: FileToWrite[] = [
    { path: targets.record, data: renderRevocationRecord(next), mode: PUBLIC_FILE_MODE },
    ...[targets.file, ...targets.copies].map((p) => ({ path: p, data: der, mode: PUBLIC_FILE_MODE })),
  ];
  return { der, record: next, thisUpdate, nextUpdate, files };
}

/** Parse a CRL file's bytes, or say why not (undefined: it parses). */
export function readCrlFile(file: string): { view?: CrlView; problem?: string } {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    return { problem: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : `unreadable (${(e as NodeJS.ErrnoException).code})` };
  }
  try {
    return { view: parseCrl(bytes, file) };
  } catch (e) {
    if (isEtcdTlsError(e)) return { problem: 'not a valid CRL' };
    throw e;
  }
}

/**
 * Why gen must (re)sign DIR's CRL, or undefined to keep it: missing, unparsable, not signed by this
 * CA, or past half its validity (so a DIR that gen keeps touching never serves a stale CRL).
 */
export function crlSigningReason(bytes: Buffer | undefined, caDer: Buffer | undefined, now: Date): string | undefined {
  if (!bytes) return 'missing';
  let view: CrlView;
  try {
    view = parseCrl(bytes);
  } catch (e) {
    if (isEtcdTlsError(e)) return 'existing CRL is not a valid CRL';
    throw e;
  }
  if (!caDer || !crlSignedBy(view, caDer)) return 'signed by another CA';
  if (!view.nextUpdate) return 'has no nextUpdate';
  const half = view.thisUpdate.getTime() + (view.nextUpdate.getTime() - view.thisUpdate.getTime()) / 2;
  if (now.getTime() >= half) return view.nextUpdate <= now ? 'expired' : 'past half its validity';
  return undefined;
}

export const crlValidityMs = (text: string | undefined, what = '--next-update'): number => parseDuration(text ?? DEFAULT_CRL_VALIDITY, what);

/** A path relative to DIR for the record and messages. */
export const relativeTo = (dir: string, file: string): string => path.relative(dir, file).split(path.sep).join('/');

