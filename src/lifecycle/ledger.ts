/**
 * The day-2 commands and gen with `--db`: what they tell the issuance ledger (the one serve keeps).
 *
 * Ordering, as in serve: a certificate's row is committed before its file appears, and a revocation
 * is in the ledger before the CRL that lists it is written. If the ledger refuses, the command fails
 * with the ledger's code and writes nothing.
 *
 * The CRL of a DIR with a ledger is the union of DIR/revoked.json and the ledger's revoked,
 * unexpired rows of this CA (its AKI): revocations made through `serve` (`/revoke`) are folded into
 * revoked.json whenever `crl` or `revoke` runs with `--db`, so every later CRL, gen's included,
 * still lists them.
 */
import type { RevocationRecord, RevokedRecordEntry } from '../cluster/crl.js';
import { ledgerFailure } from '../ledger/failure.js';
import type { CertificateRecord, Ledger } from '../ledger/ledger.js';
import { recordOfCertificate } from '../ledger/record.js';
import type { Issuer } from '../pki/certificate.js';
import { CRL_REASONS, type CrlReason } from '../pki/crl.js';

export type { Ledger } from '../ledger/ledger.js';

/** The AKI every certificate of `issuer` carries, as the ledger keys on it (lowercase hex). */
export const ledgerAki = (issuer: Issuer): string => issuer.keyId.toString('hex');

const decimal = (hex: string): string => BigInt(`0x${hex}`).toString(10);
const hexOf = (dec: string): string => BigInt(dec).toString(16);
const reasonName = (code: number): CrlReason => (Object.keys(CRL_REASONS) as CrlReason[]).find((k) => CRL_REASONS[k] === code) ?? 'unspecified';
const iso = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

function failed(e: unknown): never {
  throw ledgerFailure(e, 'nothing was written');
}

/** Record certificates just issued by `issuer` (committed when this resolves). `profile` is kept in metadata, as serve does. */
export async function recordIssued(ledger: Ledger, issuer: Issuer, certs: readonly { der: Buffer; profile: string }[], issuedAt: Date): Promise<void> {
  if (certs.length === 0) return;
  const aki = ledgerAki(issuer);
  const rows = certs.map((c) => recordOfCertificate(c.der, { authorityKeyIdentifier: aki, issuedAt, metadata: { profile: c.profile } }));
  await ledger.insert(rows).catch(failed);
}

export interface LedgerRevocation {
  entry: RevokedRecordEntry;
  /** The certificate's DER when DIR holds it: a row the ledger lacks is then added as revoked. */
  der?: Buffer;
}

/**
 * Mark revocations in the ledger. A serial it does not know is added (status revoked) when its
 * certificate is at hand; the serials it could not record are returned (revoked.json still has them).
 * An earlier revocation in the ledger keeps its reason and time.
 */
export async function revokeInLedger(ledger: Ledger, issuer: Issuer, items: readonly LedgerRevocation[]): Promise<string[]> {
  const aki = ledgerAki(issuer);
  const unrecorded: string[] = [];
  for (const { entry, der } of items) {
    const at = new Date(entry.revokedAt);
    const outcome = await ledger.revoke(decimal(entry.serial), aki, CRL_REASONS[entry.reason], at).catch(failed);
    if (outcome !== 'unknown') continue;
    if (!der) {
      unrecorded.push(entry.serial);
      continue;
    }
    const row: CertificateRecord = { ...recordOfCertificate(der, { authorityKeyIdentifier: aki, issuedAt: at }), status: 'revoked', reason: CRL_REASONS[entry.reason], revokedAt: at };
    await ledger.insert([row]).catch(failed);
  }
  return unrecorded;
}

/** `record` with the ledger's revoked, unexpired rows of this CA added; `added` are the ones it lacked. */
export async function withLedgerRevocations(ledger: Ledger, issuer: Issuer, record: RevocationRecord, now: Date): Promise<{ record: RevocationRecord; added: RevokedRecordEntry[] }> {
  const rows = await ledger.revokedUnexpired(ledgerAki(issuer), now).catch(failed);
  const known = new Set(record.revoked.map((r) => r.serial));
  const added: RevokedRecordEntry[] = [];
  for (const row of rows) {
    const serial = hexOf(row.serialNumber);
    if (known.has(serial)) continue;
    known.add(serial);
    added.push({
      serial,
      revokedAt: iso(row.revokedAt ?? now),
      reason: reasonName(row.reason),
      ...(row.commonName ? { subject: `CN=${row.commonName}` } : {}),
      notAfter: iso(row.expiry),
    });
  }
  return { record: { crlNumber: record.crlNumber, revoked: [...record.revoked, ...added] }, added };
}
