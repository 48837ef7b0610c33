/**
 * Typed views of certificates and CSRs, decoded with @peculiar's ASN.1 schemas. Used by certinfo,
 * sign (CSRs), the cluster layer's idempotence checks and the doctor; not by the issuing hot path.
 */
import { createPublicKey, verify } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AuthorityInfoAccessSyntax,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  CRLDistributionPoints,
  ExtendedKeyUsage,
  Extension as AsnExtension,
  Extensions,
  KeyUsage,
  Name as AsnName,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  type GeneralName,
} from '@peculiar/asn1-x509';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { fail, isEtcdTlsError } from '../errors.js';
import { EXT, extKeyUsageName, keyUsageNames, type ExtKeyUsageName, type KeyUsageName } from './extensions.js';
import { keySpecOf, type KeySpec } from './keys.js';
import { keySpecOfSpki } from './certificate-facts.js';

/**
 * P-256/384/521, Ed25519 and RSA keys are read from the DER (~2 µs); anything else goes through
 * OpenSSL (~1.5 ms a certificate: the largest item of a 300-member check's profile).
 */
function certificateKeySpec(spki: Buffer): KeySpec {
  try {
    const spec = keySpecOfSpki(spki);
    if (spec.algo === 'ed25519' || spec.size > 0) return spec;
  } catch {
    // OpenSSL below names what is wrong with it.
  }
  return keySpecOf(createPublicKey({ key: spki, format: 'der', type: 'spki' }));
}
import { nameViewOf, type NameView } from './name.js';
import { emptySans, normalizeIp, type SubjectAltNames } from './san.js';

export type { NameView } from './name.js';

export interface CertificateView {
  der: Buffer;
  serialHex: string;
  serialDecimal: string;
  subject: NameView;
  issuer: NameView;
  notBefore: Date;
  notAfter: Date;
  signatureAlgorithm: string;
  publicKey: KeySpec;
  isCA: boolean;
  pathLen?: number;
  keyUsage: KeyUsageName[];
  /** EKU names; unknown EKUs appear as their dotted OID. */
  extKeyUsage: (ExtKeyUsageName | string)[];
  sans: SubjectAltNames;
  subjectKeyId?: string;
  authorityKeyId?: string;
  crlUrls: string[];
  ocspUrls: string[];
  issuerUrls: string[];
  extensions: { oid: string; critical: boolean }[];
  selfIssued: boolean;
}

export interface CsrView {
  der: Buffer;
  subject: NameView;
  subjectDer: Buffer;
  publicKeySpki: Buffer;
  publicKey: KeySpec;
  sans: SubjectAltNames;
  /** Set when the CSR asks for CA:TRUE. */
  ca?: { pathLen?: number };
  signatureAlgorithm: string;
  signatureValid: boolean;
}

const SIG_ALGS: Record<string, { name: string; digest: string | null }> = {
  '1.2.840.113549.1.1.5': { name: 'SHA1WithRSA', digest: 'sha1' },
  '1.2.840.113549.1.1.11': { name: 'SHA256WithRSA', digest: 'sha256' },
  '1.2.840.113549.1.1.12': { name: 'SHA384WithRSA', digest: 'sha384' },
  '1.2.840.113549.1.1.13': { name: 'SHA512WithRSA', digest: 'sha512' },
  '1.2.840.10045.4.1': { name: 'ECDSAWithSHA1', digest: 'sha1' },
  '1.2.840.10045.4.3.2': { name: 'ECDSAWithSHA256', digest: 'sha256' },
  '1.2.840.10045.4.3.3': { name: 'ECDSAWithSHA384', digest: 'sha384' },
  '1.2.840.10045.4.3.4': { name: 'ECDSAWithSHA512', digest: 'sha512' },
  '1.3.101.112': { name: 'Ed25519', digest: null },
};

export const signatureAlgorithmName = (oid: string): string => SIG_ALGS[oid]?.name ?? oid;

function nameView(name: AsnName): NameView {
  return nameViewOf(Array.from(name).flatMap((rdn) => Array.from(rdn, (atv) => [atv.type, atv.value.toString()] as const)));
}

function sansFrom(names: GeneralName[]): SubjectAltNames {
  const sans = emptySans();
  for (const n of names) {
    if (n.dNSName !== undefined) sans.dns.push(n.dNSName);
    else if (n.iPAddress !== undefined) sans.ips.push(normalizeIp(n.iPAddress));
    else if (n.rfc822Name !== undefined) sans.emails.push(n.rfc822Name);
    else if (n.uniformResourceIdentifier !== undefined) sans.uris.push(n.uniformResourceIdentifier);
  }
  return sans;
}

const hex = (b: ArrayBuffer): string => Buffer.from(b).toString('hex');

/** Decode the extensions etcd-tls cares about into a partial view. */
function decodeExtensions(exts: AsnExtension[]): Partial<CertificateView> & { sans: SubjectAltNames } {
  const out: Partial<CertificateView> & { sans: SubjectAltNames } = {
    sans: emptySans(),
    keyUsage: [],
    extKeyUsage: [],
    crlUrls: [],
    ocspUrls: [],
    issuerUrls: [],
    isCA: false,
  };
  for (const e of exts) {
    const v = e.extnValue.buffer;
    switch (e.extnID) {
      case EXT.subjectAltName:
        out.sans = sansFrom(AsnConvert.parse(v, SubjectAlternativeName));
        break;
      case EXT.basicConstraints: {
        const bc = AsnConvert.parse(v, BasicConstraints);
        out.isCA = bc.cA;
        if (bc.pathLenConstraint !== undefined) out.pathLen = bc.pathLenConstraint;
        break;
      }
      case EXT.keyUsage: {
        const ku = AsnConvert.parse(v, KeyUsage);
        // asn1-x509's KeyUsage flags use bit n = 1 << n.
        out.keyUsage = keyUsageNames(ku.toNumber());
        break;
      }
      case EXT.extKeyUsage:
        out.extKeyUsage = Array.from(AsnConvert.parse(v, ExtendedKeyUsage), extKeyUsageName);
        break;
      case EXT.subjectKeyIdentifier:
        out.subjectKeyId = hex(AsnConvert.parse(v, SubjectKeyIdentifier).buffer);
        break;
      case EXT.authorityKeyIdentifier: {
        const aki = AsnConvert.parse(v, AuthorityKeyIdentifier);
        if (aki.keyIdentifier) out.authorityKeyId = hex(aki.keyIdentifier.buffer);
        break;
      }
      case EXT.crlDistributionPoints:
        for (const dp of AsnConvert.parse(v, CRLDistributionPoints))
          for (const gn of dp.distributionPoint?.fullName ?? [])
            if (gn.uniformResourceIdentifier) out.crlUrls?.push(gn.uniformResourceIdentifier);
        break;
      case EXT.authorityInfoAccess:
        for (const ad of AsnConvert.parse(v, AuthorityInfoAccessSyntax)) {
          const url = ad.accessLocation.uniformResourceIdentifier;
          if (!url) continue;
          if (ad.accessMethod === '1.3.6.1.5.5.7.48.1') out.ocspUrls?.push(url);
          if (ad.accessMethod === '1.3.6.1.5.5.7.48.2') out.issuerUrls?.push(url);
        }
        break;
    }
  }
  return out;
}

/**
 * Run a decoder over untrusted DER: whatever it throws that is not already one of ours (an outer
 * structure that parses around a malformed extension, key or name) becomes one BAD_DER line.
 */
export function decodeOrBadDer<T>(source: string, what: string, decode: () => T): T {
  try {
    return decode();
  } catch (e) {
    if (isEtcdTlsError(e)) throw e;
    throw fail('BAD_DER', `${source}: not a valid ${what} (${(e as Error).message})`, e);
  }
}

/** Decode a DER certificate into a typed view. `source` names the file in errors. */
export function inspectCertificate(der: Buffer, source = 'certificate'): CertificateView {
  return decodeOrBadDer(source, 'X.509 certificate', () => decodeCertificate(der));
}

function decodeCertificate(der: Buffer): CertificateView {
  const cert = AsnConvert.parse(der, Certificate);
  const tbs = cert.tbsCertificate;
  const spki = Buffer.from(AsnConvert.serialize(tbs.subjectPublicKeyInfo));
  const exts = tbs.extensions ?? [];
  const decoded = decodeExtensions(exts);
  const serial = Buffer.from(tbs.serialNumber);
  const subject = nameView(tbs.subject);
  const issuer = nameView(tbs.issuer);
  return {
    der,
    serialHex: serial.toString('hex'),
    serialDecimal: BigInt(`0x${serial.toString('hex') || '0'}`).toString(10),
    subject,
    issuer,
    notBefore: tbs.validity.notBefore.getTime(),
    notAfter: tbs.validity.notAfter.getTime(),
    signatureAlgorithm: signatureAlgorithmName(cert.signatureAlgorithm.algorithm),
    publicKey: certificateKeySpec(spki),
    isCA: decoded.isCA ?? false,
    ...(decoded.pathLen !== undefined ? { pathLen: decoded.pathLen } : {}),
    keyUsage: decoded.keyUsage ?? [],
    extKeyUsage: decoded.extKeyUsage ?? [],
    sans: decoded.sans,
    ...(decoded.subjectKeyId ? { subjectKeyId: decoded.subjectKeyId } : {}),
    ...(decoded.authorityKeyId ? { authorityKeyId: decoded.authorityKeyId } : {}),
    crlUrls: decoded.crlUrls ?? [],
    ocspUrls: decoded.ocspUrls ?? [],
    issuerUrls: decoded.issuerUrls ?? [],
    // Array.from: exts is asn1-schema's Extensions class, and its map() would return one, not plain data.
    extensions: Array.from(exts, (e) => ({ oid: e.extnID, critical: e.critical })),
    selfIssued: Buffer.from(AsnConvert.serialize(tbs.subject)).equals(Buffer.from(AsnConvert.serialize(tbs.issuer))),
  };
}

const EXTENSION_REQUEST = '1.2.840.113549.1.9.14';

/** Decode and verify a PKCS#10 CSR. A bad signature is reported in `signatureValid`, not thrown. */
export function inspectCsr(der: Buffer, source = 'CSR'): CsrView {
  return decodeOrBadDer(source, 'PKCS#10 certificate request', () => decodeCsr(der, source));
}

function decodeCsr(der: Buffer, source: string): CsrView {
  const csr = AsnConvert.parse(der, CertificationRequest);
  const info = csr.certificationRequestInfo;
  const spki = Buffer.from(AsnConvert.serialize(info.subjectPKInfo));
  let publicKey;
  try {
    publicKey = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch (e) {
    throw fail('BAD_KEY', `${source}: the CSR's public key cannot be parsed (${(e as Error).message})`);
  }
  const exts: AsnExtension[] = [];
  for (const attr of info.attributes ?? []) {
    if (attr.type !== EXTENSION_REQUEST) continue;
    for (const v of attr.values) exts.push(...AsnConvert.parse(v, Extensions));
  }
  const decoded = decodeExtensions(exts);
  const alg = SIG_ALGS[csr.signatureAlgorithm.algorithm];
  let signatureValid = false;
  if (alg && csr.certificationRequestInfoRaw) {
    try {
      signatureValid = verify(alg.digest, Buffer.from(csr.certificationRequestInfoRaw), publicKey, Buffer.from(csr.signature));
    } catch {
      signatureValid = false;
    }
  }
  return {
    der,
    subject: nameView(info.subject),
    subjectDer: Buffer.from(AsnConvert.serialize(info.subject)),
    publicKeySpki: spki,
    publicKey: keySpecOf(publicKey),
    sans: decoded.sans,
    ...(decoded.isCA ? { ca: decoded.pathLen !== undefined ? { pathLen: decoded.pathLen } : {} } : {}),
    signatureAlgorithm: signatureAlgorithmName(csr.signatureAlgorithm.algorithm),
    signatureValid,
  };
}
