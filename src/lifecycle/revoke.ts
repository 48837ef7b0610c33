/**
 * `etcd-tls revoke`: record revocations in DIR/revoked.json and re-sign the CRL everywhere (top of
 * DIR and every bundle) as one atomic batch. Revoking never reissues anything: the result says what
 * to do next. Revoking what is already revoked changes nothing and says so.
 */
import { parseCertificatePem } from '../pki/pem.js';
import { fail } from '../errors.js';
import { parseCertificate } from '../pki/certificate.js';
import { isCrlReason, type CrlReason } from '../pki/crl.js';
import { systemClock, type Clock } from '../pki/issue.js';
import { readTextFile, writeFilesAtomic } from '../store/files.js';
import { withDirectoryLock } from '../store/lock.js';
import { readCaIssuerFiles, type PassphraseSource } from './ca-key.js';
import { crlValidityMs, normalizeSerial, readRevocationRecord, relativeTo, signCrl, type RevocationRecord, type RevokedRecordEntry } from '../cluster/crl.js';
import { allLeaves, crlCopies, scanPkiDir, selectBundles, type LeafFiles, type PkiDir } from './pki-dir.js';
import { existsSync } from 'node:fs';
import { revokeInLedger, withLedgerRevocations, type Ledger, type LedgerRevocation } from './ledger.js';

export interface RevokeTargets {
  members?: readonly string[];
  clients?: readonly string[];
  /** Hex serials (colons and 0x allowed). A serial not found in DIR is revoked with a warning. */
  serials?: readonly string[];
  reason?: CrlReason | string;
}

export interface RevokeOptions {
  clock?: Clock;
  passphrase?: PassphraseSource;
  /** CRL validity, e.g. "168h". */
  nextUpdate?: string;
  warn?: (message: string) => void;
  /** The issuance ledger (`--db`): revocations are marked there first, and its revoked rows join the CRL. */
  ledger?: Ledger;
}

export interface RevokedItem extends RevokedRecordEntry {
  /** `member1/server`, `admin`, or undefined for a bare serial. */
  name?: string;
}

export interface RevokeResult {
  dir: string;
  revoked: RevokedItem[];
  alreadyRevoked: RevokedItem[];
  /** False when everything asked for was already revoked: nothing was written. */
  changed: boolean;
  crl?: { file: string; crlNumber: string; nextUpdate: string; copies: number };
  nextSteps: string[];
  /** With a ledger: revocations it held that revoked.json lacked (made through serve), now in the CRL too. */
  fromLedger?: RevokedRecordEntry[];
}

interface Wanted {
  serial: string;
  name?: string;
  leaf?: LeafFiles;
  subject?: string;
  notAfter?: string;
  der?: Buffer;
}

function leafWanted(pki: PkiDir, leaf: LeafFiles): Wanted {
  if (!existsSync(leaf.cert)) throw fail('FILE_NOT_FOUND', `${leaf.cert}: the certificate of ${leaf.name} does not exist; revoke it by --serial`);
  const der = parseCertificatePem(readTextFile(leaf.cert, 'certificate'), leaf.cert);
  const facts = parseCertificate(der, leaf.cert);
  return {
    der,
    serial: normalizeSerial(facts.serialHex) as string,
    name: leaf.name,
    leaf,
    subject: facts.subject.text,
    notAfter: facts.notAfter.toISOString().replace('.000Z', 'Z'),
  };
}

/** What to do after revoking, by what was revoked and why. */
function nextStepsFor(items: readonly RevokedItem[], reason: CrlReason, dirArg: string): string[] {
  const steps: string[] = [];
  const members = [...new Set(items.filter((i) => i.certificate?.startsWith('nodes/')).map((i) => i.name?.split('/')[0] as string))];
  const clients = items.filter((i) => i.certificate?.startsWith('clients/')).map((i) => i.name as string);
  const compromised = reason === 'keyCompromise' || reason === 'cACompromise';
  steps.push(`copy the new crl.der to every member host (install.sh installs it; etcd re-reads it on each connection, no restart)`);
  for (const m of members)
    steps.push(
      compromised
        ? `member ${m}: its key is compromised: 'etcd-tls renew ${dirArg} --member ${m} --rekey', then copy nodes/${m}/ to its host`
        : `member ${m}: its peer and client traffic is now refused by the others: remove it ('etcdctl member remove', or 'etcd-tls member remove') and stop it, or 'etcd-tls renew ${dirArg} --member ${m} --rekey' to bring it back`,
    );
  for (const c of clients)
    steps.push(
      compromised
        ? `client ${c}: 'etcd-tls renew ${dirArg} --client ${c} --rekey' and hand the new bundle to its owner (restart the process using it)`
        : `client ${c}: refused from now on; 'etcd-tls renew ${dirArg} --client ${c} --rekey' issues a new certificate if it should come back`,
    );
  return steps;
}

/**
 * Revoke certificates of DIR. Errors: UNKNOWN_NAME, CA_KEY_MISSING, KEY_MISMATCH, CA_PASSPHRASE_*,
 * BAD_REVOCATION_RECORD, BAD_FIELD (serial or reason); nothing is written on any of them.
 *
 * @example
 *   await revoke('pki', { clients: ['admin'], reason: 'keyCompromise' });
 */
export async function revoke(dirArg: string, targets: RevokeTargets, options: RevokeOptions = {}): Promise<RevokeResult> {
  const reason = targets.reason ?? 'unspecified';
  if (!isCrlReason(reason)) throw fail('BAD_FIELD', `--reason: "${reason}" is not a CRL reason (keyCompromise, superseded, cessationOfOperation, affiliationChanged, cACompromise, privilegeWithdrawn, unspecified)`);
  const validityMs = crlValidityMs(options.nextUpdate);
  const clock = options.clock ?? systemClock;
  const pki = scanPkiDir(dirArg);
  const wanted: Wanted[] = [];
  for (const b of selectBundles(pki, 'member', targets.members ?? [])) for (const leaf of b.leaves) wanted.push(leafWanted(pki, leaf));
  for (const b of selectBundles(pki, 'client', targets.clients ?? [])) for (const leaf of b.leaves) wanted.push(leafWanted(pki, leaf));
  for (const s of targets.serials ?? []) {
    const serial = normalizeSerial(s);
    if (!serial) throw fail('BAD_FIELD', `--serial: "${s}" is not a hexadecimal serial number (at most 20 bytes)`);
    const leaf = allLeaves(pki).find((l) => existsSync(l.cert) && leafWanted(pki, l).serial === serial);
    if (leaf) wanted.push(leafWanted(pki, leaf));
    else {
      options.warn?.(`serial ${serial} is not the serial of any certificate in ${dirArg}: it is recorded and listed in the CRL anyway (a certificate this CA issued elsewhere?)`);
      wanted.push({ serial });
    }
  }
  if (wanted.length === 0) throw fail('MISSING_FLAG', 'revoke: name what to revoke: --member NAME, --client NAME or --serial HEX');

  return withDirectoryLock(pki.dir, 'etcd-tls revoke', async () => {
    const record = readRevocationRecord(pki.record);
    const now = clock.now();
    const known = new Map(record.revoked.map((r) => [r.serial, r]));
    const revoked: RevokedItem[] = [];
    const alreadyRevoked: RevokedItem[] = [];
    const forLedger: LedgerRevocation[] = [];
    for (const w of wanted) {
      const existing = known.get(w.serial);
      if (existing) {
        alreadyRevoked.push({ ...existing, ...(w.name ? { name: w.name } : {}) });
        forLedger.push({ entry: existing, ...(w.der ? { der: w.der } : {}) });
        continue;
      }
      const entry: RevokedRecordEntry = {
        serial: w.serial,
        revokedAt: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        reason,
        ...(w.leaf ? { certificate: relativeTo(pki.dir, w.leaf.cert) } : {}),
        ...(w.subject ? { subject: w.subject } : {}),
        ...(w.notAfter ? { notAfter: w.notAfter } : {}),
      };
      known.set(w.serial, entry);
      revoked.push({ ...entry, ...(w.name ? { name: w.name } : {}) });
      forLedger.push({ entry, ...(w.der ? { der: w.der } : {}) });
    }
    const base = { dir: pki.dir, revoked, alreadyRevoked };
    if (revoked.length === 0 && !options.ledger) return { ...base, changed: false, nextSteps: [] };
    // The CA is read only when there is something to sign: revoking twice needs no passphrase
    // (with a ledger it is read anyway: the ledger keys revocations on the CA's key identifier).
    const issuer = await readCaIssuerFiles(pki.caCert, pki.caKey, options.passphrase);
    let next: RevocationRecord = { crlNumber: record.crlNumber, revoked: [...record.revoked, ...revoked.map(({ name: _name, ...e }) => e)] };
    let fromLedger: RevokedRecordEntry[] = [];
    if (options.ledger) {
      // The ledger first: a CRL on disk never lists a revocation the ledger does not hold.
      const unrecorded = await revokeInLedger(options.ledger, issuer, forLedger);
      for (const serial of unrecorded) options.warn?.(`serial ${serial} is not in the ledger and its certificate is not in ${dirArg}: revoked in revoked.json and the CRL only`);
      ({ record: next, added: fromLedger } = await withLedgerRevocations(options.ledger, issuer, next, now));
    }
    if (revoked.length === 0 && fromLedger.length === 0) return { ...base, changed: false, nextSteps: [], ...(options.ledger ? { fromLedger } : {}) };
    const signed = signCrl(issuer, next, { file: pki.crl, record: pki.record, copies: crlCopies(pki) }, now, validityMs);
    writeFilesAtomic(signed.files);
    return {
      ...base,
      changed: true,
      crl: { file: pki.crl, crlNumber: signed.record.crlNumber.toString(), nextUpdate: signed.nextUpdate.toISOString().replace('.000Z', 'Z'), copies: crlCopies(pki).length },
      nextSteps: nextStepsFor(revoked, reason, dirArg),
      ...(options.ledger ? { fromLedger } : {}),
    };
  });
}
