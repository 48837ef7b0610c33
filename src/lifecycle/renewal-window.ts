/**
 * When a leaf is due for renewal — the one rule `gen` and `renew` (without --within/--all) share.
 * The hardening work makes this relative to the certificate's lifetime; swap the body, not the callers.
 */
/** Reissue certificates this close to expiry, so a routine `gen` run also renews. */
export const RENEW_BEFORE_MS = 30 * 86_400_000;

/** How long before notAfter a certificate of this validity window is renewed. */
export function renewalWindowMs(_notBefore: Date, _notAfter: Date): number {
  return RENEW_BEFORE_MS;
}

export function renewalDue(notBefore: Date, notAfter: Date, now: Date): boolean {
  return notAfter.getTime() - now.getTime() < renewalWindowMs(notBefore, notAfter);
}
