/**
 * The typed view of a PKCS#10 CSR, decoded with @peculiar's ASN.1 schemas: used by `sign` and
 * `certinfo -csr` only, so it is loaded only by them. Certificates are read by parseCertificate
 * (src/pki/certificate.ts, a DER walker) everywhere.
 */
import { createPublicKey, verify } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { BasicConstraints, Extension as AsnExtension, Extensions, Name as AsnName, SubjectAlternativeName, type GeneralName } from '@peculiar/asn1-x509';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { fail, isEtcdTlsError } from '../errors.js';
import { EXT } from './extensions.js';
import { keySpecOf, type KeySpec } from './keys.js';
import { signatureAlgorithmName, signatureDigest } from './certificate.js';
import { nameViewOf, type NameView } from './name.js';
import { emptySans, normalizeIp, type SubjectAltNames } from './san.js';

export type { NameView } from './name.js';

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

/** A @peculiar Name as etcd-tls's NameView (also the test oracle's, test/helpers/peculiar-certificate.ts). */
export function nameView(name: AsnName): NameView {
  return nameViewOf(Array.from(name).flatMap((rdn) => Array.from(rdn, (atv) => [atv.type, atv.value.toString()] as const)));
}

export function sansFrom(names: GeneralName[]): SubjectAltNames {
  const sans = emptySans();
  for (const n of names) {
    if (n.dNSName !== undefined) sans.dns.push(n.dNSName);
    else if (n.iPAddress !== undefined) sans.ips.push(normalizeIp(n.iPAddress));
    else if (n.rfc822Name !== undefined) sans.emails.push(n.rfc822Name);
    else if (n.uniformResourceIdentifier !== undefined) sans.uris.push(n.uniformResourceIdentifier);
  }
  return sans;
}

/** The extensions a CSR may request that etcd-tls reads: SANs and CA:TRUE. */
function decodeExtensions(exts: AsnExtension[]): { sans: SubjectAltNames; isCA: boolean; pathLen?: number } {
  const out: { sans: SubjectAltNames; isCA: boolean; pathLen?: number } = { sans: emptySans(), isCA: false };
  for (const e of exts) {
    const v = e.extnValue.buffer;
    if (e.extnID === EXT.subjectAltName) out.sans = sansFrom(AsnConvert.parse(v, SubjectAlternativeName));
    else if (e.extnID === EXT.basicConstraints) {
      const bc = AsnConvert.parse(v, BasicConstraints);
      out.isCA = bc.cA;
      if (bc.pathLenConstraint !== undefined) out.pathLen = bc.pathLenConstraint;
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
  const digest = signatureDigest(csr.signatureAlgorithm.algorithm);
  let signatureValid = false;
  if (digest !== undefined && csr.certificationRequestInfoRaw) {
    try {
      signatureValid = verify(digest, Buffer.from(csr.certificationRequestInfoRaw), publicKey, Buffer.from(csr.signature));
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
