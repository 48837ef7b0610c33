/**
 * An oracle for parseCertificate (src/pki/certificate.ts): the same fields decoded by @peculiar's
 * ASN.1 schemas, which etcd-tls used to read certificates with before its DER walker did all of it.
 * Tests only: a second, independent decoder to hold the walker to.
 */
import { createPublicKey } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AuthorityInfoAccessSyntax,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  CRLDistributionPoints,
  ExtendedKeyUsage,
  Extension as AsnExtension,
  KeyUsage,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
} from '@peculiar/asn1-x509';
import type { ParsedCertificate } from '../../src/pki/certificate.js';
import { EXT, extKeyUsageName, keyUsageNames } from '../../src/pki/extensions.js';
import { keySpecOf } from '../../src/pki/keys.js';
import { nameView, sansFrom } from '../../src/pki/inspect.js';
import { emptySans, type SubjectAltNames } from '../../src/pki/san.js';

export type PeculiarView = Omit<ParsedCertificate, 'source' | 'issuerDer' | 'subjectDer' | 'spki' | 'publicKeyBits' | 'keyUsageBits' | 'tbs' | 'signature' | 'signatureAlgorithmOid' | 'x509' | 'publicKeyObject' | 'signatureAlgorithm'> & { signatureAlgorithm: string };

const hex = (b: ArrayBuffer): string => Buffer.from(b).toString('hex');

/** Decode the extensions etcd-tls cares about into a partial view. */
function decodeExtensions(exts: AsnExtension[]): Partial<PeculiarView> & { sans: SubjectAltNames } {
  const out: Partial<PeculiarView> & { sans: SubjectAltNames } = {
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

/** The fields parseCertificate gives, as @peculiar's schemas decode them. */
export function peculiarCertificate(der: Buffer): PeculiarView {
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
    signatureAlgorithm: cert.signatureAlgorithm.algorithm,
    publicKey: keySpecOf(createPublicKey({ key: spki, format: 'der', type: 'spki' })),
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

