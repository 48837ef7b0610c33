/**
 * The one certificate reader: `parseCertificate` walks the DER once with the small TLV reader (der.ts)
 * and returns every field that issuing, gen's plan, check, probe and certinfo use (~30-60 µs a leaf).
 * No schema library: @peculiar/asn1-x509 cost ~2.8 ms a certificate plus ~150 ms to load, the largest
 * items of a 300-member `check`'s profile. Node's X509Certificate (host/IP matching) and the public
 * KeyObject (signature checks) are built on first use only.
 */
import { createPublicKey, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { fail } from '../errors.js';
import { children, content, decodeOid, decodeTime, DerError, raw, readElement, TAG, type Element } from './der.js';
import { parseCertificatePem } from './pem.js';
import { EXT, extKeyUsageName, KEY_USAGE_BITS, keyIdentifier, keyUsageNames, type ExtKeyUsageName, type KeyUsageName } from './extensions.js';
import { decryptPrivateKeyPem, ecSizeOfOid, isEncryptedKeyPem, keyMatchesPublicKey, keySpecOf, parsePrivateKeyPem, validateExistingKey, type KeySpec } from './keys.js';
import { boundedMemo } from './memo.js';
import { nameViewOf, type NameView } from './name.js';
import { emptySans, formatIpBytes, type SubjectAltNames } from './san.js';

export type { NameView } from './name.js';

/** A certificate as every part of etcd-tls reads it. Build it with `parseCertificate`. */
export interface ParsedCertificate {
  der: Buffer;
  /** Names the file (or peer) in messages. */
  source: string;
  serialHex: string;
  serialDecimal: string;
  /** The DER of the issuer and subject Names, compared byte for byte as Go does. */
  issuerDer: Buffer;
  subjectDer: Buffer;
  subject: NameView;
  issuer: NameView;
  notBefore: Date;
  notAfter: Date;
  /** `ECDSAWithSHA256`, `SHA256WithRSA`..., or the dotted OID of one etcd-tls does not name. */
  signatureAlgorithm: string;
  /** The SubjectPublicKeyInfo DER. */
  spki: Buffer;
  /** The subjectPublicKey bits (for key identifiers). */
  publicKeyBits: Buffer;
  publicKey: KeySpec;
  isCA: boolean;
  pathLen?: number;
  /** KeyUsage as a mask (bit n = 1 << n); undefined without a KeyUsage extension (any usage allowed). */
  keyUsageBits?: number;
  keyUsage: KeyUsageName[];
  /** EKU names; unknown EKUs appear as their dotted OID. */
  extKeyUsage: (ExtKeyUsageName | string)[];
  sans: SubjectAltNames;
  /** Hex. */
  subjectKeyId?: string;
  /** Hex (the keyIdentifier field only). */
  authorityKeyId?: string;
  crlUrls: string[];
  ocspUrls: string[];
  issuerUrls: string[];
  extensions: { oid: string; critical: boolean }[];
  /** Subject and issuer names are the same bytes. */
  selfIssued: boolean;
  /** The signed TBSCertificate bytes and the signature over them. */
  tbs: Buffer;
  signature: Buffer;
  signatureAlgorithmOid: string;
  /** Node's view, built on first use (~50 µs): host and IP matching. */
  readonly x509: X509Certificate;
  /** The public key, built on first use. */
  readonly publicKeyObject: KeyObject;
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
/** The digest node:crypto's verify takes for a signature algorithm; undefined when etcd-tls does not know it. */
export const signatureDigest = (oid: string): string | null | undefined => SIG_ALGS[oid]?.digest;

/** A directory string's text, by its ASN.1 string type. */
function stringValue(buf: Uint8Array, el: Element): string {
  const bytes = content(buf, el);
  switch (el.tag) {
    case TAG.UTF8_STRING:
      return bytes.toString('utf8');
    case 0x1e: // BMPString: UTF-16 big-endian (swapped in a copy: `bytes` is a view of the certificate)
      return Buffer.from(bytes).swap16().toString('utf16le');
    default: // PrintableString, IA5String, TeletexString, VisibleString...
      return bytes.toString('latin1');
  }
}

/** A DER Name's (attribute OID, value) pairs, in encoding order. */
function* nameAttributes(name: Buffer): Generator<[string, string]> {
  for (const rdn of children(name, readElement(name, 0))) {
    for (const atv of children(name, rdn)) {
      const [typeEl, valueEl] = children(name, atv);
      if (typeEl?.tag !== TAG.OID || !valueEl) throw new DerError('malformed name attribute');
      yield [decodeOid(content(name, typeEl)), stringValue(name, valueEl)];
    }
  }
}

const nameViews = boundedMemo<NameView>(4096);

const freezeView = (v: NameView): NameView => {
  for (const a of v.attributes) Object.freeze(a);
  Object.freeze(v.attributes);
  Object.freeze(v.other);
  return Object.freeze(v);
};

/**
 * The NameView of a DER Name, frozen and shared by every certificate with the same bytes: each leaf
 * names its CA as issuer, and decoding that again was a tenth of parsing a leaf.
 */
export function nameViewOfDer(name: Buffer): NameView {
  return nameViews(name.toString('latin1'), () => freezeView(nameViewOf(nameAttributes(name))));
}

/** The GeneralNames etcd-tls models (DNS, IP, email, URI) of a SEQUENCE OF GeneralName's elements. */
function addGeneralNames(buf: Buffer, names: Element[], sans: SubjectAltNames): void {
  for (const gn of names) {
    const text = (): string => content(buf, gn).toString('latin1');
    if (gn.tag === 0x82) sans.dns.push(text());
    else if (gn.tag === 0x87) {
      const ip = content(buf, gn);
      if (ip.length !== 4 && ip.length !== 16) throw new DerError(`an IP SAN of ${ip.length} bytes`);
      sans.ips.push(formatIpBytes(ip));
    } else if (gn.tag === 0x81) sans.emails.push(text());
    else if (gn.tag === 0x86) sans.uris.push(text());
  }
}

/** The SANs of a subjectAltName extension value (a CSR's extension request reads them too). */
export function sansOf(value: Buffer): SubjectAltNames {
  const sans = emptySans();
  addGeneralNames(value, children(value, readElement(value, 0)), sans);
  return sans;
}

/** The key type and size from a SubjectPublicKeyInfo (DER only: no OpenSSL key object). */
export function keySpecOfSpki(spki: Buffer): KeySpec {
  const [algorithm, key] = children(spki, readElement(spki, 0));
  const [algOid, params] = algorithm ? children(spki, algorithm) : [];
  if (!algOid || !key) throw new DerError('malformed SubjectPublicKeyInfo');
  const oid = decodeOid(content(spki, algOid));
  if (oid === '1.3.101.112') return { algo: 'ed25519', size: 0 };
  if (oid === '1.2.840.10045.2.1') {
    const curve = params?.tag === TAG.OID ? decodeOid(content(spki, params)) : '';
    return { algo: 'ecdsa', size: ecSizeOfOid(curve) ?? 0 };
  }
  if (oid === '1.2.840.113549.1.1.1') {
    // BIT STRING (no unused bits) holding RSAPublicKey { modulus, publicExponent }.
    const rsa = content(spki, key).subarray(1);
    const modulus = children(rsa, readElement(rsa, 0))[0];
    if (!modulus) throw new DerError('malformed RSA public key');
    let n = content(rsa, modulus);
    while (n.length > 0 && n[0] === 0) n = n.subarray(1);
    return { algo: 'rsa', size: n.length === 0 ? 0 : (n.length - 1) * 8 + (32 - Math.clz32(n[0] as number)) };
  }
  throw new DerError(`unsupported public key algorithm ${oid}`);
}

/**
 * P-256/384/521, Ed25519 and RSA keys are read from the DER (~2 µs); anything else goes through
 * OpenSSL (~1.5 ms), which also refuses a key it cannot use.
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

function readExtensions(der: Buffer, extList: Element | undefined, cert: ParsedCertificate): void {
  for (const ext of extList ? children(der, extList) : []) {
    const parts = children(der, ext);
    const idEl = parts[0];
    const valueEl = parts[parts.length - 1];
    if (parts.length < 2 || parts.length > 3 || idEl?.tag !== TAG.OID || valueEl?.tag !== TAG.OCTET_STRING) throw new DerError('malformed extension');
    const criticalEl = parts.length === 3 ? parts[1] : undefined;
    if (criticalEl && (criticalEl.tag !== TAG.BOOLEAN || criticalEl.end - criticalEl.contentStart !== 1)) throw new DerError('malformed extension');
    const id = decodeOid(content(der, idEl));
    cert.extensions.push({ oid: id, critical: criticalEl ? der[criticalEl.contentStart] !== 0 : false });
    const value = content(der, valueEl);
    const inner = (): Element => {
      const top = readElement(value, 0);
      if (top.end !== value.length) throw new DerError(`trailing bytes in extension ${id}`);
      return top;
    };
    switch (id) {
      case EXT.subjectKeyIdentifier: {
        const el = inner();
        if (el.tag !== TAG.OCTET_STRING) throw new DerError('malformed subjectKeyIdentifier');
        cert.subjectKeyId = content(value, el).toString('hex');
        break;
      }
      case EXT.authorityKeyIdentifier: {
        const keyId = children(value, inner()).find((c) => c.tag === 0x80);
        if (keyId) cert.authorityKeyId = content(value, keyId).toString('hex');
        break;
      }
      case EXT.basicConstraints:
        for (const c of children(value, inner())) {
          if (c.tag === TAG.BOOLEAN) cert.isCA = value[c.contentStart] !== 0;
          else if (c.tag === TAG.INTEGER) {
            const n = content(value, c);
            if (n.length === 0 || n.length > 4 || (n[0] as number) & 0x80) throw new DerError('malformed pathLenConstraint');
            cert.pathLen = n.readUIntBE(0, n.length);
          } else throw new DerError('malformed basicConstraints');
        }
        break;
      case EXT.keyUsage: {
        const el = inner();
        if (el.tag !== TAG.BIT_STRING || el.end === el.contentStart) throw new DerError('malformed keyUsage');
        cert.keyUsageBits = readKeyUsageMask(value, el);
        cert.keyUsage = keyUsageNames(cert.keyUsageBits);
        break;
      }
      case EXT.extKeyUsage:
        cert.extKeyUsage = children(value, inner()).map((o) => {
          if (o.tag !== TAG.OID) throw new DerError('malformed extKeyUsage');
          return extKeyUsageName(decodeOid(content(value, o)));
        });
        break;
      case EXT.subjectAltName:
        addGeneralNames(value, children(value, inner()), cert.sans);
        break;
      case EXT.crlDistributionPoints:
        // DistributionPoint { distributionPoint [0] { fullName [0] GeneralNames } ... }
        for (const dp of children(value, inner())) {
          const name = children(value, dp).find((c) => c.tag === 0xa0);
          const fullName = name ? children(value, name).find((c) => c.tag === 0xa0) : undefined;
          if (fullName) for (const gn of children(value, fullName)) if (gn.tag === 0x86) cert.crlUrls.push(content(value, gn).toString('latin1'));
        }
        break;
      case EXT.authorityInfoAccess:
        for (const ad of children(value, inner())) {
          const [method, location] = children(value, ad);
          if (method?.tag !== TAG.OID || !location) throw new DerError('malformed authorityInfoAccess');
          if (location.tag !== 0x86) continue;
          const url = content(value, location).toString('latin1');
          const m = decodeOid(content(value, method));
          if (m === '1.3.6.1.5.5.7.48.1') cert.ocspUrls.push(url);
          if (m === '1.3.6.1.5.5.7.48.2') cert.issuerUrls.push(url);
        }
        break;
    }
  }
}

/**
 * Parse a DER certificate. `source` names the file in errors: BAD_DER `<source>: not a valid X.509
 * certificate (<why>)` for anything malformed, never another exception.
 *
 * @example
 *   const cert = parseCertificate(parseCertificatePem(pem, 'server.pem'), 'server.pem');
 *   console.log(cert.subject.text, cert.sans.ips, cert.notAfter);
 */
export function parseCertificate(der: Buffer, source = 'certificate'): ParsedCertificate {
  try {
    const top = readElement(der, 0);
    if (top.end !== der.length) throw new DerError('trailing bytes after the certificate');
    if (top.tag !== TAG.SEQUENCE) throw new DerError('not a SEQUENCE');
    const [tbs, sigAlg, sigValue, extra] = children(der, top);
    if (!tbs || !sigAlg || !sigValue || extra || tbs.tag !== TAG.SEQUENCE || sigAlg.tag !== TAG.SEQUENCE || sigValue.tag !== TAG.BIT_STRING || sigValue.end === sigValue.contentStart)
      throw new DerError('not a Certificate SEQUENCE of TBSCertificate, AlgorithmIdentifier and BIT STRING');
    const sigOidEl = children(der, sigAlg)[0];
    if (sigOidEl?.tag !== TAG.OID) throw new DerError('malformed signature algorithm');
    const signatureAlgorithmOid = decodeOid(content(der, sigOidEl));
    let fields = children(der, tbs);
    if (fields[0]?.tag === 0xa0) fields = fields.slice(1);
    const [serial, , issuer, validity, subject, spki, ...rest] = fields;
    if (!serial || !issuer || !validity || !subject || !spki) throw new DerError('TBSCertificate is missing fields');
    if (serial.tag !== TAG.INTEGER || issuer.tag !== TAG.SEQUENCE || subject.tag !== TAG.SEQUENCE || spki.tag !== TAG.SEQUENCE) throw new DerError('TBSCertificate fields are out of order');
    const [nb, na] = children(der, validity);
    if (!nb || !na) throw new DerError('validity is missing a time');
    const spkiDer = raw(der, spki);
    const serialHex = content(der, serial).toString('hex');
    const issuerDer = raw(der, issuer);
    const subjectDer = raw(der, subject);
    let x509: X509Certificate | undefined;
    let publicKeyObject: KeyObject | undefined;
    const cert: ParsedCertificate = {
      der,
      source,
      serialHex,
      serialDecimal: BigInt(`0x${serialHex || '0'}`).toString(10),
      issuerDer,
      subjectDer,
      subject: nameViewOfDer(subjectDer),
      issuer: nameViewOfDer(issuerDer),
      notBefore: decodeTime(der, nb),
      notAfter: decodeTime(der, na),
      signatureAlgorithm: signatureAlgorithmName(signatureAlgorithmOid),
      spki: spkiDer,
      publicKeyBits: subjectPublicKeyBits(spkiDer),
      publicKey: certificateKeySpec(spkiDer),
      isCA: false,
      keyUsage: [],
      extKeyUsage: [],
      sans: emptySans(),
      crlUrls: [],
      ocspUrls: [],
      issuerUrls: [],
      extensions: [],
      selfIssued: issuerDer.equals(subjectDer),
      tbs: raw(der, tbs),
      signature: Buffer.from(der.subarray(sigValue.contentStart + 1, sigValue.end)),
      signatureAlgorithmOid,
      get x509() {
        x509 ??= new X509Certificate(der);
        return x509;
      },
      get publicKeyObject() {
        publicKeyObject ??= createPublicKey({ key: spkiDer, format: 'der', type: 'spki' });
        return publicKeyObject;
      },
    };
    const extsWrapper = rest.find((e) => e.tag === 0xa3);
    const extList = extsWrapper ? children(der, extsWrapper)[0] : undefined;
    if (extsWrapper && !extList) throw new DerError('empty extensions field');
    readExtensions(der, extList, cert);
    return cert;
  } catch (e) {
    // Whatever a malformed field throws: the walker's DerError, a RangeError from a short buffer,
    // OpenSSL refusing a public key that the DER walker cannot size.
    throw fail('BAD_DER', `${source}: not a valid X.509 certificate (${(e as Error).message})`, e);
  }
}

/**
 * Whether `issuer`'s key made `cert`'s signature, checked over the TBS bytes with the issuer's cached
 * key object (Node's X509Certificate.verify would export the issuer key again for every leaf).
 */
export function signatureVerifies(cert: ParsedCertificate, issuer: ParsedCertificate): boolean {
  try {
    const digest = signatureDigest(cert.signatureAlgorithmOid);
    if (digest === undefined) return cert.x509.verify(issuer.x509.publicKey);
    return verify(digest, cert.tbs, issuer.publicKeyObject, cert.signature);
  } catch {
    return false;
  }
}

/** A CA ready to sign: its certificate fields and private key, checked to belong together. */
export interface Issuer {
  cert: ParsedCertificate;
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

export interface IssuerOptions {
  /**
   * Load a CA whose key is weaker than etcd-tls allows. Only for proving that members no longer trust
   * the CA being replaced (rotate-ca's trust probe): refusing there would make that check pass unseen.
   */
  allowWeakKey?: boolean;
}

/** loadIssuer for a key already decoded (an encrypted CA key, decrypted by lifecycle/ca-key). */
export function issuerFromKey(certPem: string, certSource: string, privateKey: KeyObject, keySource: string, opts: IssuerOptions = {}): Issuer {
  const cert = parseCertificate(parseCertificatePem(certPem, certSource), certSource);
  if (!keyMatchesPublicKey(privateKey, cert.spki))
    throw fail('KEY_MISMATCH', `${keySource}: this private key does not belong to the CA certificate ${certSource}`);
  if (!cert.isCA) throw fail('NOT_A_CA', `${certSource}: is not a CA certificate (basicConstraints CA:TRUE is missing)`);
  if (cert.keyUsageBits !== undefined && !(cert.keyUsageBits & (1 << KEY_USAGE_BITS.keyCertSign)))
    throw fail('NOT_A_CA', `${certSource}: its keyUsage does not allow signing certificates (certSign is missing)`);
  // Every signer (gencert -ca, sign, serve, gen into an existing DIR, renew, crl, rotate-ca) loads its CA
  // here: a CA key weaker than what etcd-tls generates must not sign, as a weak CSR key is not certified.
  if (!opts.allowWeakKey) validateExistingKey(cert.publicKey, `${keySource}: CA key`);
  return { cert, privateKey, keyId: cert.subjectKeyId !== undefined ? Buffer.from(cert.subjectKeyId, 'hex') : keyIdentifier(cert.publicKeyBits), source: certSource };
}

/** Node's X509Certificate for a DER certificate: host/IP checks and signature verification. */
export const nodeCertificate = (der: Uint8Array): X509Certificate => new X509Certificate(der);

/** Whether `cert` was signed by the key of `issuer` (signature only; no path or time checks). */
export function verifySignedBy(cert: Uint8Array, issuerSpki: Uint8Array): boolean {
  const pub = createPublicKey({ key: Buffer.from(issuerSpki), format: 'der', type: 'spki' });
  return nodeCertificate(cert).verify(pub);
}

/**
 * Where the passphrase of an encrypted CA key comes from: asked with a question (and `confirm` for a
 * key about to be encrypted); undefined when there is no source. The CLI's is in cli/passphrase.ts
 * (--ca-passphrase-file, $ETCD_TLS_CA_PASSPHRASE, a no-echo prompt on a terminal).
 */
export type PassphraseSource = (question: string, confirm: boolean) => Promise<string | undefined>;

/**
 * The one CA key reader every signing command uses: a plain key, or an encrypted one decrypted with
 * the passphrase `source` gives. Errors: CA_PASSPHRASE_MISSING, CA_PASSPHRASE_WRONG, BAD_KEY.
 */
export async function readCaPrivateKey(keyPem: string, keySource: string, source?: PassphraseSource): Promise<KeyObject> {
  if (!isEncryptedKeyPem(keyPem)) return parsePrivateKeyPem(keyPem, keySource);
  const passphrase = await source?.(`passphrase for ${keySource}: `, false);
  if (passphrase === undefined || passphrase === '')
    throw fail('CA_PASSPHRASE_MISSING', `${keySource}: the CA key is encrypted: give --ca-passphrase-file FILE, set ETCD_TLS_CA_PASSPHRASE, or run on a terminal`);
  return decryptPrivateKeyPem(keyPem, passphrase, keySource);
}

/** loadIssuer for a CA key that may be encrypted. */
export async function loadCaIssuer(certPem: string, certSource: string, keyPem: string, keySource: string, source?: PassphraseSource, opts: IssuerOptions = {}): Promise<Issuer> {
  return issuerFromKey(certPem, certSource, await readCaPrivateKey(keyPem, keySource, source), keySource, opts);
}
