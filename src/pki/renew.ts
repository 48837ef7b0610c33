/**
 * Renewal: a certificate issued again from its own contents — subject (byte for byte), SANs, key
 * usages, extended key usages and lifetime — with a fresh validity window and serial, for the same
 * public key or a new one. Pure apart from the injected clock and randomness. `etcd-tls renew` and
 * `gen` (for certificates inside their renewal window) both issue through this one function.
 */
import { fail } from '../errors.js';
import type { Issuer } from './certificate.js';
import { parseCertificate } from './certificate.js';
import { EKU_OIDS, type ExtKeyUsageName } from './extensions.js';
import { issueCertificate, systemClock, systemRandom, validityWindow, type Clock, type IssuedCertificate, type RandomSource } from './issue.js';
import { DEFAULT_BACKDATE_MS, type Profile } from './profile.js';

export interface RenewOptions {
  /** SubjectPublicKeyInfo DER of a new key (rekey); the certificate's own key when absent. */
  publicKey?: Buffer;
  clock?: Clock;
  random?: RandomSource;
  /** Names the certificate in messages. */
  source?: string;
}

// One profile object per shape, so issueCertificate's per-profile extension cache is hit in a batch.
const profiles = new Map<string, Profile>();

/**
 * Reissue `certificateDer` from `issuer`. Errors: BAD_DER, OUTLIVES_CA, BAD_FIELD (an extended key
 * usage etcd-tls does not know, which it could not carry over).
 *
 * @example
 *   const renewed = renewCertificate(readFileDer('nodes/m1/server.pem'), issuer);
 */
export function renewCertificate(certificateDer: Buffer, issuer: Issuer, options: RenewOptions = {}): IssuedCertificate {
  const source = options.source ?? 'certificate';
  const facts = parseCertificate(certificateDer, source);
  const unknownEku = facts.extKeyUsage.find((e) => !Object.prototype.hasOwnProperty.call(EKU_OIDS, e));
  if (unknownEku) throw fail('BAD_FIELD', `${source}: has the extended key usage ${unknownEku}, which etcd-tls cannot carry over; issue it anew`);
  const lifetimeMs = facts.notAfter.getTime() - facts.notBefore.getTime();
  const key = `${facts.keyUsage.join(',')}|${facts.extKeyUsage.join(',')}|${lifetimeMs}`;
  let base = profiles.get(key);
  if (!base) {
    base = {
      name: 'renewal',
      usages: { keyUsage: [...facts.keyUsage], extKeyUsage: facts.extKeyUsage as ExtKeyUsageName[], unknown: [] },
      expiryMs: lifetimeMs,
      backdateMs: DEFAULT_BACKDATE_MS,
    };
    profiles.set(key, base);
  }
  // Exactly the old lifetime: long-lived windows (cfssl's: notBefore = now rounded to the minute minus the
  // backdate, notAfter = notBefore + lifetime) come out the same; short-lived ones (whose window is not
  // notBefore + expiry, see validityWindow) keep their length and a backdate of at most a tenth of it.
  const clock = options.clock ?? systemClock;
  const window = validityWindow(base, clock.now());
  const backdate = Math.min(DEFAULT_BACKDATE_MS, Math.floor(lifetimeMs / 10_000) * 1000);
  const notBefore = lifetimeMs >= 86_400_000 ? window.notBefore : new Date(Math.floor(clock.now().getTime() / 1000) * 1000 - backdate);
  const profile: Profile = lifetimeMs >= 86_400_000 ? base : { ...base, notBefore, notAfter: new Date(notBefore.getTime() + lifetimeMs) };
  return issueCertificate(
    { subject: facts.subjectDer, publicKey: options.publicKey ?? facts.spki, sans: facts.sans },
    profile,
    issuer,
    clock,
    options.random ?? systemRandom,
  );
}
