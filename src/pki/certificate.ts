/**
 * The fields of a certificate the issuing path needs (raw subject, validity, key identifier, CA
 * constraints, public key), read with the small DER walker so that `gencert` need not load a schema
 * library. The full typed view for humans and the doctor is src/pki/inspect.ts.
 */
import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { fail } from '../errors.js';
import { children, content, decodeOid, decodeTime, DerError, raw, readElement, TAG, type Element } from './der.js';
import { parseCertificatePem } from './pem.js';
import { EXT, KEY_USAGE_BITS, keyIdentifier } from './extensions.js';
import { keyMatchesPublicKey, parsePrivateKeyPem } from './keys.js';

export interface CertificateCore {
  der: Buffer;
  serialHex: string;
  issuerDer: Buffer;
  subjectDer: Buffer;
  notBefore: Date;
  notAfter: Date;
  spki: Buffer;
  /** The subjectPublicKey bits (for key identifiers). */
  publicKeyBits: Buffer;
  subjectKeyId?: Buffer;
  isCA: boolean;
  pathLen?: number;
  /** Undefined when the certificate has no KeyUsage extension (then any usage is allowed). */
  keyUsageBits?: number;
}

/** Split a SubjectPublicKeyInfo into its key bits (without the unused-bits byte). */
export function subjectPublicKeyBits(spki: Uint8Array): Buffer {
  const top = readElement(spki, 0);
  const bits = children(spki, top)[1];
  if (!bits || bits.tag !== TAG.BIT_STRING) throw new DerError('SubjectPublicKeyInfo without a BIT STRING');
  return Buffer.from(spki.subarray(bits.contentStart + 1, bits.end));
}

/** KeyUsage BIT STRING → a mask where bit n is KeyUsage bit n (bit 0 = the first bit on the wire). */
function readKeyUsageMask(buf: Uint8Array, el: Element): number {
  const c = content(buf, el);
  let mask = 0;
  for (let n = 0; n < 16; n++) if (((c[1 + (n >> 3)] ?? 0) & (0x80 >> (n & 7))) !== 0) mask |= 1 << n;
  return mask;
}

/** Parse the issuing-relevant fields of a DER certificate. `source` names the file for errors. */
export function readCertificateCore(der: Buffer, source: string): CertificateCore {
  try {
    const cert = readElement(der, 0);
    if (cert.end !== der.length) throw new DerError('trailing bytes after the certificate');
    const tbs = children(der, cert)[0];
    if (!tbs) throw new DerError('empty certificate');
    let fields = children(der, tbs);
    if (fields[0]?.tag === 0xa0) fields = fields.slice(1);
    const [serial, , issuer, validity, subject, spki, ...rest] = fields;
    if (!serial || !issuer || !validity || !subject || !spki) throw new DerError('TBSCertificate is missing fields');
    const [nb, na] = children(der, validity);
    if (!nb || !na) throw new DerError('validity is missing a time');
    const spkiDer = raw(der, spki);
    const core: CertificateCore = {
      der,
      serialHex: content(der, serial).toString('hex'),
      issuerDer: raw(der, issuer),
      subjectDer: raw(der, subject),
      notBefore: decodeTime(der, nb),
      notAfter: decodeTime(der, na),
      spki: spkiDer,
      publicKeyBits: subjectPublicKeyBits(spkiDer),
      isCA: false,
    };
    const extsWrapper = rest.find((e) => e.tag === 0xa3);
    const extList = extsWrapper ? children(der, extsWrapper)[0] : undefined;
    if (extsWrapper && !extList) throw new DerError('empty extensions field');
    const exts = extList ? children(der, extList) : [];
    for (const ext of exts) {
      const parts = children(der, ext);
      const idEl = parts[0];
      const valueEl = parts[parts.length - 1];
      if (parts.length < 2 || idEl?.tag !== TAG.OID || valueEl?.tag !== TAG.OCTET_STRING) throw new DerError('malformed extension');
      const id = decodeOid(content(der, idEl));
      const value = content(der, valueEl);
      const inner = readElement(value, 0);
      if (id === EXT.subjectKeyIdentifier) core.subjectKeyId = content(value, inner);
      if (id === EXT.basicConstraints) {
        for (const c of children(value, inner)) {
          if (c.tag === TAG.BOOLEAN) core.isCA = value[c.contentStart] !== 0;
          if (c.tag === TAG.INTEGER) core.pathLen = content(value, c).readUIntBE(0, c.end - c.contentStart);
        }
      }
      if (id === EXT.keyUsage) core.keyUsageBits = readKeyUsageMask(value, inner);
    }
    return core;
  } catch (e) {
    if (e instanceof DerError || e instanceof RangeError)
      throw fail('BAD_DER', `${source}: not a valid X.509 certificate (${(e as Error).message})`);
    throw e;
  }
}

/** A CA ready to sign: its certificate fields and private key, checked to belong together. */
export interface Issuer {
  cert: CertificateCore;
  privateKey: KeyObject;
  /** Key identifier to put in issued certificates' AKI (encoded once per issuer: not to be changed). */
  readonly keyId: Buffer;
  /** Names the CA's files in messages. */
  source: string;
}

/**
 * Load a CA from PEM texts: the certificate must be a CA allowed to sign certificates, and the key
 * must be its key. `certSource`/`keySource` name the files in error messages.
 */
export function loadIssuer(certPem: string, certSource: string, keyPem: string, keySource: string): Issuer {
  return issuerFromKey(certPem, certSource, parsePrivateKeyPem(keyPem, keySource), keySource);
}

/** loadIssuer for a key already decoded (an encrypted CA key, decrypted by lifecycle/ca-key). */
export function issuerFromKey(certPem: string, certSource: string, privateKey: KeyObject, keySource: string): Issuer {
  const cert = readCertificateCore(parseCertificatePem(certPem, certSource), certSource);
  if (!keyMatchesPublicKey(privateKey, cert.spki))
    throw fail('KEY_MISMATCH', `${keySource}: this private key does not belong to the CA certificate ${certSource}`);
  if (!cert.isCA) throw fail('NOT_A_CA', `${certSource}: is not a CA certificate (basicConstraints CA:TRUE is missing)`);
  if (cert.keyUsageBits !== undefined && !(cert.keyUsageBits & (1 << KEY_USAGE_BITS.keyCertSign)))
    throw fail('NOT_A_CA', `${certSource}: its keyUsage does not allow signing certificates (certSign is missing)`);
  return { cert, privateKey, keyId: cert.subjectKeyId ?? keyIdentifier(cert.publicKeyBits), source: certSource };
}

/** Node's X509Certificate for a DER certificate: host/IP checks and signature verification. */
export const nodeCertificate = (der: Uint8Array): X509Certificate => new X509Certificate(der);

/** Whether `cert` was signed by the key of `issuer` (signature only; no path or time checks). */
export function verifySignedBy(cert: Uint8Array, issuerSpki: Uint8Array): boolean {
  const pub = createPublicKey({ key: Buffer.from(issuerSpki), format: 'der', type: 'spki' });
  return nodeCertificate(cert).verify(pub);
}
