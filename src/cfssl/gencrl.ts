/**
 * cfssl's `gencrl SERIALS CA CA_KEY [TIME]`: a CRL revoking the listed serials (decimal, one per line,
 * as cfssl parses them), revoked now, valid TIME seconds (default 7 days), printed as base64 DER.
 * Beside cfssl 1.2.0's output it adds a CRL number (the Unix time, so later CRLs have larger numbers).
 */
import { fail } from '../errors.js';
import type { Issuer } from '../pki/certificate.js';
import { issueCrl } from '../pki/crl.js';
import type { Clock } from '../pki/issue.js';

export const GENCRL_DEFAULT_SECONDS = 7 * 24 * 3600;

/** Serials as cfssl reads the file: one decimal integer per line, blank lines skipped. */
export function parseSerialList(text: string, source: string): bigint[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .map((line, i) => ({ line, i }))
    .filter(({ line }) => line !== '')
    .map(({ line, i }) => {
      if (!/^\d{1,49}$/.test(line)) throw fail('BAD_FIELD', `${source}: line ${i + 1}: "${line.slice(0, 60)}" is not a decimal serial number (cfssl's gencrl reads decimal)`);
      return BigInt(line);
    });
}

/** The TIME argument: seconds from now, as a positive integer. */
export function parseExpirySeconds(text: string, source: string): number {
  const s = text.trim();
  if (!/^\d{1,10}$/.test(s) || Number(s) === 0) throw fail('BAD_DURATION', `${source}: "${s.slice(0, 40)}" is not a positive number of seconds`);
  return Number(s);
}

export function genCrl(serials: readonly bigint[], issuer: Issuer, expirySeconds: number, clock: Clock): string {
  const now = new Date(Math.floor(clock.now().getTime() / 1000) * 1000);
  const der = issueCrl({
    issuerCertificateDer: issuer.cert.der,
    issuerPrivateKey: issuer.privateKey,
    revoked: serials.map((serial) => ({ serial, revokedAt: now })),
    thisUpdate: now,
    nextUpdate: new Date(now.getTime() + expirySeconds * 1000),
    crlNumber: BigInt(now.getTime() / 1000),
  });
  return `${Buffer.from(der).toString('base64')}\n`;
}
