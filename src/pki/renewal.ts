/**
 * When a certificate is due for renewal: one rule for `gen` (which reissues what is due), and for the
 * day-2 `status` and `renew` commands built on it.
 *
 * The rule is cert-manager's: renew once two thirds of the lifetime have passed (a third left), but never
 * more than 30 days before expiry. A fixed 30-day window reissued a 30-day (or shorter) certificate on
 * every run; a third of the lifetime keeps a 5-minute certificate for 3m20s and a one-year one until
 * 30 days before its end.
 */

/** The cap on the renewal window: a year-long certificate is renewed 30 days before it expires. */
export const MAX_RENEWAL_WINDOW_MS = 30 * 86_400_000;

/**
 * How long before its notAfter a certificate with this lifetime (notAfter - notBefore) is due for
 * renewal: a third of the lifetime, at most 30 days.
 *
 * @example renewalWindowMs(8760 * 3_600_000) === 30 * 86_400_000; renewalWindowMs(720 * 3_600_000) === 240 * 3_600_000
 */
export function renewalWindowMs(lifetimeMs: number): number {
  return Math.min(Math.max(lifetimeMs, 0) / 3, MAX_RENEWAL_WINDOW_MS);
}

/** Whether a certificate valid from notBefore to notAfter is due for renewal at `now` (expired ones are). */
export function needsRenewal(validity: { notBefore: Date; notAfter: Date }, now: Date): boolean {
  const lifetime = validity.notAfter.getTime() - validity.notBefore.getTime();
  return validity.notAfter.getTime() - now.getTime() < renewalWindowMs(lifetime);
}
