/**
 * `etcd-tls crl`: re-sign DIR's CRL from its record (the formats and signing are in cluster/crl.ts).
 */
import { writeFilesAtomic } from '../store/files.js';
import { withDirectoryLock } from '../store/lock.js';
import { crlValidityMs, readRevocationRecord, signCrl } from '../cluster/crl.js';
import { readCaIssuerFiles, type PassphraseSource } from './ca-key.js';
import { crlCopies, scanPkiDir } from './pki-dir.js';
import { withLedgerRevocations, type Ledger } from './ledger.js';

export interface ResignOptions {
  clock?: { now(): Date };
  passphrase?: PassphraseSource;
  /** CRL validity, e.g. "168h" (the default). */
  nextUpdate?: string;
  /** The issuance ledger (`--db`): its revoked rows of this CA are folded into the record and the CRL. */
  ledger?: Ledger;
}

export interface ResignResult {
  file: string;
  crlNumber: string;
  thisUpdate: string;
  nextUpdate: string;
  revoked: number;
  copies: string[];
  /** With a ledger: how many of `revoked` came from it (revoked through serve, now in revoked.json too). */
  fromLedger?: number;
}

/**
 * `etcd-tls crl`: re-sign DIR's CRL from its record with a fresh nextUpdate (for cron), and copy it
 * into every bundle. Errors: BAD_REVOCATION_RECORD, CA_KEY_MISSING, CA_PASSPHRASE_*; nothing written.
 */
export async function resignCrl(dirArg: string, options: ResignOptions = {}): Promise<ResignResult> {
  const validityMs = crlValidityMs(options.nextUpdate);
  const pki = scanPkiDir(dirArg);
  return withDirectoryLock(pki.dir, 'etcd-tls crl', async () => {
    const now = (options.clock ?? { now: () => new Date() }).now();
    let record = readRevocationRecord(pki.record);
    const issuer = await readCaIssuerFiles(pki.caCert, pki.caKey, options.passphrase);
    let added = 0;
    if (options.ledger) {
      const union = await withLedgerRevocations(options.ledger, issuer, record, now);
      record = union.record;
      added = union.added.length;
    }
    const copies = crlCopies(pki);
    const signed = signCrl(issuer, record, { file: pki.crl, record: pki.record, copies }, now, validityMs);
    writeFilesAtomic(signed.files);
    const iso = (d: Date): string => d.toISOString().replace('.000Z', 'Z');
    return {
      file: pki.crl,
      crlNumber: signed.record.crlNumber.toString(),
      thisUpdate: iso(signed.thisUpdate),
      nextUpdate: iso(signed.nextUpdate),
      revoked: record.revoked.length,
      copies,
      ...(options.ledger ? { fromLedger: added } : {}),
    };
  });
}
