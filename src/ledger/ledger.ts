/** One issued certificate, as cfssl's certdb `certificates` table stores it. */
export interface CertificateRecord {
  serialNumber: string;            // decimal string, as cfssl's certdb
  authorityKeyIdentifier: string;  // lowercase hex, no colons
  caLabel: string;
  status: 'good' | 'revoked';
  reason: number;                  // RFC 5280 CRLReason code; 0 while good
  expiry: Date;
  revokedAt: Date | null;
  pem: string;
  issuedAt: Date;
  notBefore: Date;
  sans: string[];
  commonName: string;
  metadata: Record<string, unknown> | null;
}
export type RevokeOutcome = 'revoked' | 'already-revoked' | 'unknown';
export interface Ledger {
  /** Durably records the certificates (resolves after commit); concurrent calls may share one commit. A serial+AKI already recorded rejects with LedgerError code 'DUPLICATE_SERIAL'. */
  insert(records: readonly CertificateRecord[]): Promise<void>;
  revoke(serialNumber: string, authorityKeyIdentifier: string, reason: number, at: Date): Promise<RevokeOutcome>;
  get(serialNumber: string, authorityKeyIdentifier?: string): Promise<CertificateRecord[]>;
  list(filter?: { status?: 'good' | 'revoked'; expiringBefore?: Date; caLabel?: string }): Promise<CertificateRecord[]>;
  /** Revoked and not yet expired certificates of one CA: what its CRL must list. */
  revokedUnexpired(authorityKeyIdentifier: string, now: Date): Promise<CertificateRecord[]>;
  close(): Promise<void>;
}
export class LedgerError extends Error { constructor(readonly code: 'DUPLICATE_SERIAL' | 'UNAVAILABLE' | 'READ_ONLY' | 'BAD_URL' | 'SCHEMA', message: string) { super(message); } }
