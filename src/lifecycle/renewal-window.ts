/**
 * When a leaf is due for renewal — the one rule `gen` and `renew` (without --within/--all) share:
 * pki/renewal.ts's window relative to the certificate's lifetime (at most 30 days).
 */
import { MAX_RENEWAL_WINDOW_MS, needsRenewal, renewalWindowMs as windowOfLifetime } from '../pki/renewal.js';

/** The longest renewal window (a certificate of a year or more). */
export const RENEW_BEFORE_MS = MAX_RENEWAL_WINDOW_MS;

/** How long before notAfter a certificate of this validity window is renewed. */
export function renewalWindowMs(notBefore: Date, notAfter: Date): number {
  return windowOfLifetime(notAfter.getTime() - notBefore.getTime());
}

export function renewalDue(notBefore: Date, notAfter: Date, now: Date): boolean {
  return needsRenewal({ notBefore, notAfter }, now);
}
