/**
 * `etcd-tls renew`: reissue leaves of a DIR from its CA, keeping subject, SANs, usages and lifetime
 * (pki/renew.ts, the path gen uses for certificates in their renewal window), with a fresh validity
 * window; the same key by default, a new one with `rekey`.
 *
 * Why a reader never sees a mismatched pair. etcd reads the certificate file and then the key file
 * on every TLS handshake (tlsutil.NewCert), two separate opens. Every write here is a rename of a
 * fully written, flushed temp file, so each open sees a whole old or a whole new file:
 *   - same key (default): the key file is not touched; the old and the new certificate both belong to
 *     it, so every (certificate, key) a reader can combine matches;
 *   - rekey: the key is renamed into place first, then the certificate. A handshake that reads the
 *     certificate and then the key can combine (old, old), (old, new) or (new, new) — never a new
 *     certificate with the old key. (old certificate, new key) is possible only for a handshake whose
 *     two reads straddle the two renames (microseconds); Go then fails that one handshake and the
 *     client dials again. docs/day2.md says how to avoid even that (rekey, then restart, or renew
 *     same-key first).
 */
import { existsSync, readFileSync } from 'node:fs';
import { fail } from '../errors.js';
import { parseCertificate, type ParsedCertificate } from '../pki/certificate.js';
import { parseCertificatePem, toPem } from '../pki/pem.js';
import { systemClock, systemRandom, type Clock, type RandomSource } from '../pki/issue.js';
import { generateKeyAsync, privateKeyPemMatches, type KeySpec } from '../pki/keys.js';
import { renewCertificate } from '../pki/renew.js';
import { PRIVATE_FILE_MODE, PUBLIC_FILE_MODE, readTextFile, writeFilesAtomic, type FileToWrite } from '../store/files.js';
import { withDirectoryLock } from '../store/lock.js';
import { readCaIssuerFiles, type PassphraseSource } from './ca-key.js';
import { allLeaves, scanPkiDir, selectBundles, type LeafFiles } from './pki-dir.js';
import { needsRenewal } from '../pki/renewal.js';
import { recordIssued, type Ledger } from './ledger.js';

export interface RenewSelection {
  members?: readonly string[];
  clients?: readonly string[];
  /** Renew what expires within this many ms (of the selection, or of everything when none is named). */
  withinMs?: number;
  /** Renew everything selected (or everything) regardless of expiry. */
  all?: boolean;
  /** A new key for each renewed certificate. */
  rekey?: boolean;
}

export interface RenewOptions {
  clock?: Clock;
  random?: RandomSource;
  passphrase?: PassphraseSource;
  /** Record every renewed certificate here (committed before any file is written). */
  ledger?: Ledger;
}

/** What has to happen for a renewed certificate to be used. */
export type Pickup = 'next-handshake' | 'restart' | 'reconnect';

export interface RenewedItem {
  name: string;
  role: 'server' | 'peer' | 'client';
  cert: string;
  key: string;
  oldSerial: string;
  newSerial: string;
  notAfter: string;
  rekeyed: boolean;
  pickup: Pickup;
  /** Who must do what: "etcd member m1 uses it from its next TLS handshake (no restart)". */
  action: string;
}

export interface RenewResult {
  dir: string;
  renewed: RenewedItem[];
  /** Selected but not due (with --within or the default window). */
  skipped: { name: string; notAfter: string }[];
}

const iso = (d: Date): string => d.toISOString().replace('.000Z', 'Z');

function pickupOf(leaf: LeafFiles): { pickup: Pickup; action: string } {
  if (leaf.kind === 'member')
    return {
      pickup: 'next-handshake',
      action: `etcd member ${leaf.owner} reads its certificates and keys on every new TLS handshake: no restart (copy nodes/${leaf.owner}/ to its host if it runs elsewhere)`,
    };
  if (leaf.owner === 'kube-apiserver')
    return { pickup: 'restart', action: 'kube-apiserver keeps its etcd connections open and reads its client certificate at start: restart kube-apiserver' };
  return { pickup: 'reconnect', action: `client ${leaf.owner}: new connections use it (etcdctl: next run); restart long-running processes that use it` };
}

/**
 * Renew leaves of DIR. Errors: UNKNOWN_NAME, CA_KEY_MISSING, KEY_MISMATCH (a key that does not match
 * its certificate, without rekey), CA_PASSPHRASE_*, OUTLIVES_CA; nothing is written on any of them.
 *
 * @example
 *   await renew('pki', { members: ['member1'] });            // same key, next handshake
 *   await renew('pki', { all: true, rekey: true });
 */
export async function renew(dirArg: string, selection: RenewSelection, options: RenewOptions = {}): Promise<RenewResult> {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? systemRandom;
  const pki = scanPkiDir(dirArg);
  const named = [...selectBundles(pki, 'member', selection.members ?? []), ...selectBundles(pki, 'client', selection.clients ?? [])].flatMap((b) => b.leaves);
  const selected = named.length > 0 ? named : allLeaves(pki);
  // Named certificates are renewed as asked; otherwise only what is due (the window gen uses).
  const unconditional = selection.all === true || (named.length > 0 && selection.withinMs === undefined);

  return withDirectoryLock(pki.dir, 'etcd-tls renew', async () => {
    const now = clock.now();
    const due: { leaf: LeafFiles; der: Buffer; facts: ParsedCertificate; keyPem: string }[] = [];
    const skipped: RenewResult['skipped'] = [];
    for (const leaf of selected) {
      if (!existsSync(leaf.cert)) throw fail('FILE_NOT_FOUND', `${leaf.cert}: the certificate of ${leaf.name} does not exist; run etcd-tls gen to issue it`);
      const der = parseCertificatePem(readTextFile(leaf.cert, 'certificate'), leaf.cert);
      const facts = parseCertificate(der, leaf.cert);
      const isDue =
        unconditional ||
        (selection.withinMs !== undefined ? facts.notAfter.getTime() - now.getTime() <= selection.withinMs : needsRenewal(facts, now));
      if (!isDue) {
        skipped.push({ name: leaf.name, notAfter: iso(facts.notAfter) });
        continue;
      }
      const keyPem = existsSync(leaf.key) ? readFileSync(leaf.key, 'utf8') : '';
      if (!selection.rekey) {
        if (!keyPem) throw fail('FILE_NOT_FOUND', `${leaf.key}: the key of ${leaf.name} does not exist; renew it with --rekey`);
        if (!privateKeyPemMatches(keyPem, facts.spki, leaf.key))
          throw fail('KEY_MISMATCH', `${leaf.key}: does not belong to ${leaf.cert}; renew it with --rekey`);
      }
      due.push({ leaf, der, facts, keyPem });
    }
    if (due.length === 0) return { dir: pki.dir, renewed: [], skipped };

    const issuer = await readCaIssuerFiles(pki.caCert, pki.caKey, options.passphrase);
    const newKeys = selection.rekey ? await Promise.all(due.map((d) => generateKeyAsync(d.facts.publicKey as KeySpec))) : [];
    const writes: FileToWrite[] = [];
    const issuedDer: { der: Buffer; profile: string }[] = [];
    const renewed: RenewedItem[] = due.map((d, i) => {
      const key = newKeys[i];
      const issued = renewCertificate(d.der, issuer, { clock, random, source: d.leaf.cert, ...(key ? { publicKey: key.spki } : {}) });
      // Key before certificate: the store renames in this order (see the comment at the top).
      if (key) writes.push({ path: d.leaf.key, data: key.privateKeyPem, mode: PRIVATE_FILE_MODE });
      writes.push({ path: d.leaf.cert, data: toPem('CERTIFICATE', issued.der), mode: PUBLIC_FILE_MODE });
      issuedDer.push({ der: issued.der, profile: d.leaf.role });
      return {
        name: d.leaf.name,
        role: d.leaf.role,
        cert: d.leaf.cert,
        key: d.leaf.key,
        oldSerial: d.facts.serialHex,
        newSerial: issued.serialHex,
        notAfter: iso(issued.notAfter),
        rekeyed: Boolean(key),
        ...pickupOf(d.leaf),
      };
    });
    // The ledger first: a certificate never exists on disk without its record.
    if (options.ledger) await recordIssued(options.ledger, issuer, issuedDer, now);
    writeFilesAtomic(writes);
    return { dir: pki.dir, renewed, skipped };
  });
}
