/**
 * Certificate revocation lists (RFC 5280 §5): a pure encoder and a reader. Bytes in, bytes out; the
 * clock comes in as thisUpdate/nextUpdate so tests are exact.
 *
 * What etcd needs (checked against etcd 3.4 in test/e2e/lifecycle.test.ts): etcd 3.4/3.5 read the
 * file with Go's x509.ParseCRL (PEM or DER), 3.6 with x509.ParseRevocationList (DER only), and match
 * revoked entries by serial number alone. So the encoder writes plain DER, v2, with the issuer's
 * subject byte for byte, an authorityKeyIdentifier and a cRLNumber (both required by RFC 5280 and by
 * openssl's `crl -verify` strict checks), and a reasonCode per entry when one is given.
 */
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { fail } from '../errors.js';
import { children, content, decodeOid, decodeTime, DerError, explicit, oid, raw, readElement, sequence, smallInteger, TAG, time, tlv, unsignedInteger, type Element } from './der.js';
import { parseCertificate } from './certificate.js';
import { signatureAlgorithmFor } from './keys.js';
import { keyIdentifier } from './extensions.js';

/** RFC 5280 §5.3.1 CRLReason, by the names openssl and cfssl print. value 7 is not used. */
export const CRL_REASONS = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
} as const;
export type CrlReason = keyof typeof CRL_REASONS;

export const isCrlReason = (s: string): s is CrlReason => Object.prototype.hasOwnProperty.call(CRL_REASONS, s);

export interface RevokedEntry {
  serial: bigint;
  revokedAt: Date;
  reason?: CrlReason;
}

export interface CrlInput {
  /** The CA certificate (DER) whose key signs the CRL: its subject becomes the CRL issuer. */
  issuerCertificateDer: Uint8Array;
  issuerPrivateKey: KeyObject;
  revoked: readonly RevokedEntry[];
  thisUpdate: Date;
  nextUpdate: Date;
  /** Monotonically increasing per CA (RFC 5280 §5.2.3). */
  crlNumber: bigint;
}

const OID = {
  authorityKeyIdentifier: '2.5.29.35',
  cRLNumber: '2.5.29.20',
  reasonCode: '2.5.29.21',
} as const;

const bigintBytes = (n: bigint): Buffer => {
  if (n < 0n) throw new TypeError(`CRL: ${n} is negative`);
  const hex = n.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
};
const bigintInteger = (n: bigint): Buffer => unsignedInteger(bigintBytes(n));
const extension = (id: string, value: Buffer): Buffer => sequence(oid(id), tlv(TAG.OCTET_STRING, value));

/**
 * Issue a signed CRL (DER). Entries are sorted by serial so the same input gives the same bytes.
 *
 * @example
 *   const der = issueCrl({ issuerCertificateDer: ca.der, issuerPrivateKey: caKey, revoked: [],
 *     thisUpdate: now, nextUpdate: new Date(now.getTime() + 7 * 86_400_000), crlNumber: 1n });
 */
export function issueCrl(input: CrlInput): Uint8Array {
  const ca = parseCertificate(Buffer.from(input.issuerCertificateDer), 'CRL issuer');
  if (input.nextUpdate.getTime() <= input.thisUpdate.getTime())
    throw fail('BAD_VALIDITY', `CRL: nextUpdate ${input.nextUpdate.toISOString()} is not after thisUpdate ${input.thisUpdate.toISOString()}`);
  const alg = signatureAlgorithmFor(input.issuerPrivateKey);
  const keyId = ca.subjectKeyId !== undefined ? Buffer.from(ca.subjectKeyId, 'hex') : keyIdentifier(ca.publicKeyBits);
  const entries = [...input.revoked]
    .sort((a, b) => (a.serial < b.serial ? -1 : a.serial > b.serial ? 1 : 0))
    .map((r) => {
      const parts = [bigintInteger(r.serial), time(r.revokedAt)];
      // RFC 5280: reasonCode "unspecified" SHOULD be absent.
      if (r.reason && r.reason !== 'unspecified')
        parts.push(sequence(extension(OID.reasonCode, tlv(0x0a, Buffer.from([CRL_REASONS[r.reason]])))));
      return sequence(...parts);
    });
  const crlExtensions = explicit(
    0,
    sequence(
      extension(OID.authorityKeyIdentifier, sequence(tlv(0x80, keyId))),
      extension(OID.cRLNumber, bigintInteger(input.crlNumber)),
    ),
  );
  const tbs = sequence(
    smallInteger(1), // v2
    alg.algorithmIdentifier,
    ca.subjectDer,
    time(input.thisUpdate),
    time(input.nextUpdate),
    // An empty revokedCertificates must be absent, not an empty SEQUENCE (RFC 5280 §5.1.2.6).
    ...(entries.length ? [sequence(...entries)] : []),
    crlExtensions,
  );
  const signature = sign(alg.digest, tbs, input.issuerPrivateKey);
  return sequence(tbs, alg.algorithmIdentifier, tlv(TAG.BIT_STRING, Buffer.concat([Buffer.from([0]), signature])));
}

/** A decoded CRL. */
export interface CrlView {
  der: Buffer;
  issuerDer: Buffer;
  thisUpdate: Date;
  nextUpdate?: Date;
  crlNumber?: bigint;
  authorityKeyId?: string;
  revoked: { serialHex: string; revokedAt: Date; reason?: CrlReason }[];
  /** The signed part and the signature, for verifyCrlSignature. */
  tbs: Buffer;
  signatureAlgorithmOid: string;
  signature: Buffer;
}

const REASON_BY_CODE = new Map<number, CrlReason>(Object.entries(CRL_REASONS).map(([k, v]) => [v, k as CrlReason]));
const hexOf = (b: Uint8Array): string => {
  // Serials as lower-case hex without leading zero bytes (how issueCertificate's serialHex reads).
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return Buffer.from(b.subarray(i)).toString('hex');
};

/** Read a CRL from DER or PEM ("X509 CRL"). Errors: BAD_DER naming `source`. */
export function parseCrl(input: Uint8Array | string, source = 'CRL'): CrlView {
  let der: Buffer;
  const text = typeof input === 'string' ? input : Buffer.from(input).subarray(0, 11).toString('latin1') === '-----BEGIN ' ? Buffer.from(input).toString('latin1') : undefined;
  if (text !== undefined) {
    const m = /-----BEGIN X509 CRL-----([\s\S]*?)-----END X509 CRL-----/.exec(text);
    if (!m) throw fail('BAD_PEM', `${source}: expected a PEM "X509 CRL" block`);
    der = Buffer.from((m[1] as string).replace(/\s+/g, ''), 'base64');
  } else der = Buffer.from(input as Uint8Array);
  try {
    return walkCrl(der);
  } catch (e) {
    if (e instanceof DerError || e instanceof RangeError) throw fail('BAD_DER', `${source}: not a valid CRL (${e.message})`);
    throw e;
  }
}

/** Extensions (a SEQUENCE OF Extension) as id → value bytes. */
function extensionsOf(buf: Buffer, list: Element): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const ext of children(buf, list)) {
    const parts = children(buf, ext);
    const id = parts[0];
    const value = parts[parts.length - 1];
    if (parts.length < 2 || id?.tag !== TAG.OID || value?.tag !== TAG.OCTET_STRING) throw new DerError('malformed extension');
    out.set(decodeOid(content(buf, id)), content(buf, value));
  }
  return out;
}

const isTime = (e: Element | undefined): e is Element => e?.tag === TAG.UTC_TIME || e?.tag === TAG.GENERALIZED_TIME;

// The DER walker rather than @peculiar's schemas: gen reads the CRL on every run, and loading the
// schema library costs more than the rest of an unchanged gen (see der.ts).
function walkCrl(der: Buffer): CrlView {
  const top = readElement(der, 0);
  if (top.tag !== TAG.SEQUENCE || top.end !== der.length) throw new DerError('not one DER SEQUENCE');
  const [tbsEl, algEl, sigEl] = children(der, top);
  if (tbsEl?.tag !== TAG.SEQUENCE || algEl?.tag !== TAG.SEQUENCE || sigEl?.tag !== TAG.BIT_STRING) throw new DerError('CertificateList is missing fields');
  const algOid = children(der, algEl)[0];
  if (algOid?.tag !== TAG.OID) throw new DerError('bad signature algorithm');
  const fields = children(der, tbsEl);
  let i = fields[0]?.tag === TAG.INTEGER ? 1 : 0;
  const sigInner = fields[i++];
  const issuerEl = fields[i++];
  const thisEl = fields[i++];
  if (sigInner?.tag !== TAG.SEQUENCE || issuerEl?.tag !== TAG.SEQUENCE || !isTime(thisEl)) throw new DerError('TBSCertList is missing fields');
  const view: CrlView = {
    der,
    issuerDer: raw(der, issuerEl),
    thisUpdate: decodeTime(der, thisEl),
    revoked: [],
    tbs: raw(der, tbsEl),
    signatureAlgorithmOid: decodeOid(content(der, algOid)),
    signature: content(der, sigEl).subarray(1),
  };
  let next = fields[i];
  if (isTime(next)) {
    view.nextUpdate = decodeTime(der, next);
    next = fields[++i];
  }
  if (next?.tag === TAG.SEQUENCE) {
    for (const entry of children(der, next)) {
      const [serial, date, exts] = children(der, entry);
      if (serial?.tag !== TAG.INTEGER || !isTime(date)) throw new DerError('malformed revoked entry');
      const code = exts?.tag === TAG.SEQUENCE ? extensionsOf(der, exts).get(OID.reasonCode) : undefined;
      const reason = code && code.length === 3 && code[0] === 0x0a ? REASON_BY_CODE.get(code[2] as number) : undefined;
      view.revoked.push({ serialHex: hexOf(content(der, serial)), revokedAt: decodeTime(der, date), ...(reason ? { reason } : {}) });
    }
    next = fields[++i];
  }
  if (next?.tag === 0xa0) {
    const list = children(der, next)[0];
    if (list?.tag !== TAG.SEQUENCE) throw new DerError('malformed crlExtensions');
    const exts = extensionsOf(der, list);
    const number = exts.get(OID.cRLNumber);
    if (number) view.crlNumber = BigInt(`0x${content(number, readElement(number, 0)).toString('hex') || '0'}`);
    const aki = exts.get(OID.authorityKeyIdentifier);
    if (aki) {
      const kid = children(aki, readElement(aki, 0)).find((c) => c.tag === 0x80);
      if (kid) view.authorityKeyId = content(aki, kid).toString('hex');
    }
  }
  return view;
}

/** Whether the CRL was signed by the CA certificate's key and names it as issuer. */
export function crlSignedBy(crl: CrlView, caCertificateDer: Uint8Array): boolean {
  const ca = parseCertificate(Buffer.from(caCertificateDer), 'CA');
  if (!crl.issuerDer.equals(ca.subjectDer)) return false;
  const key = createPublicKey({ key: ca.spki, format: 'der', type: 'spki' });
  const digest = key.asymmetricKeyType === 'ed25519' ? null : /sha512|1\.2\.840\.10045\.4\.3\.4|1\.2\.840\.113549\.1\.1\.13/.test(crl.signatureAlgorithmOid) ? 'sha512' : /1\.2\.840\.10045\.4\.3\.3|1\.2\.840\.113549\.1\.1\.12/.test(crl.signatureAlgorithmOid) ? 'sha384' : 'sha256';
  try {
    return verify(digest, crl.tbs, key, crl.signature);
  } catch {
    return false;
  }
}
