/**
 * A certificate as its ledger row: the one builder every writer uses (the signing service, gen,
 * renew, revoke), so a row means the same thing whichever edge issued the certificate.
 */
import { parseCertificate } from '../pki/certificate.js';
import { toPem } from '../pki/pem.js';
import type { CertificateRecord } from './ledger.js';

/** What a row needs to know of a certificate: what the issuing code already has in hand. */
export interface RecordedCertificate {
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  /** DNS names, IPs, emails, URIs, as in the certificate. */
  sans: string[];
  commonName: string;
}

export interface RecordContext {
  /** The issuing CA's key identifier (the certificates' AKI), lowercase hex. */
  authorityKeyIdentifier: string;
  issuedAt: Date;
  /** cfssl leaves it empty for a single-CA server. */
  caLabel?: string;
  metadata?: Record<string, unknown> | null;
}

/** The row of a certificate (status good). The serial becomes cfssl's decimal string. */
export function certificateRecord(cert: RecordedCertificate, pem: string, ctx: RecordContext): CertificateRecord {
  return {
    serialNumber: BigInt(`0x${cert.serialHex || '0'}`).toString(10),
    authorityKeyIdentifier: ctx.authorityKeyIdentifier.toLowerCase(),
    caLabel: ctx.caLabel ?? '',
    status: 'good',
    reason: 0,
    expiry: cert.notAfter,
    revokedAt: null,
    pem,
    issuedAt: ctx.issuedAt,
    notBefore: cert.notBefore,
    sans: cert.sans,
    commonName: cert.commonName,
    metadata: ctx.metadata ?? null,
  };
}

/**
 * The row of a DER certificate read back from its bytes (for writers that do not carry the facts).
 *
 * @example
 *   const row = recordOfCertificate(issued.der, { authorityKeyIdentifier: issuer.keyId.toString('hex'), issuedAt: new Date() });
 */
export function recordOfCertificate(der: Buffer, ctx: RecordContext): CertificateRecord {
  const c = parseCertificate(der, 'issued certificate');
  const cn = c.subject.attributes.filter((a) => a.type === 'CN').at(-1)?.value ?? '';
  return certificateRecord(
    { serialHex: c.serialHex, notBefore: c.notBefore, notAfter: c.notAfter, sans: [...c.sans.dns, ...c.sans.ips, ...c.sans.emails, ...c.sans.uris], commonName: cn },
    toPem('CERTIFICATE', der),
    ctx,
  );
}
