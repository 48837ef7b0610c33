/**
 * What `gen`'s plan compares with the spec, read from a certificate's DER with the TLV walker: the
 * subject, the SANs, the key and extended key usages, the authority key ID and the key type.
 * inspectCertificate (@peculiar's schemas) gives the same and much more, at ~2 ms per certificate
 * plus ~150 ms to load: a re-run of gen over 200 unchanged certificates spent most of its second
 * there. test/unit/pki-certificate-facts.test.ts holds it to inspectCertificate's answers.
 */
import { fail } from '../errors.js';
import { children, content, decodeOid, DerError, readElement, TAG, type Element } from './der.js';
import { readCertificateCore, type CertificateCore } from './certificate.js';
import { EXT, extKeyUsageName, keyUsageNames, type ExtKeyUsageName, type KeyUsageName } from './extensions.js';
import { ecSizeOfOid, type KeySpec } from './keys.js';
import { nameViewOf, type NameView } from './name.js';
import { emptySans, formatIpBytes, type SubjectAltNames } from './san.js';

export interface CertificateFacts extends CertificateCore {
  subject: NameView;
  sans: SubjectAltNames;
  keyUsage: KeyUsageName[];
  /** EKU names; unknown EKUs appear as their dotted OID. */
  extKeyUsage: (ExtKeyUsageName | string)[];
  authorityKeyId?: string;
  publicKey: KeySpec;
}

/** A directory string's text, by its ASN.1 string type. */
function stringValue(buf: Uint8Array, el: Element): string {
  const bytes = content(buf, el);
  switch (el.tag) {
    case TAG.UTF8_STRING:
      return bytes.toString('utf8');
    case 0x1e: // BMPString: UTF-16 big-endian
      return bytes.swap16().toString('utf16le');
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

function sansOf(value: Buffer): SubjectAltNames {
  const sans = emptySans();
  for (const gn of children(value, readElement(value, 0))) {
    const text = (): string => content(value, gn).toString('latin1');
    if (gn.tag === 0x82) sans.dns.push(text());
    else if (gn.tag === 0x87) sans.ips.push(formatIpBytes(content(value, gn)));
    else if (gn.tag === 0x81) sans.emails.push(text());
    else if (gn.tag === 0x86) sans.uris.push(text());
  }
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

/** Read a certificate's facts (see the module comment). Errors: BAD_DER naming `source`, as readCertificateCore. */
export function readCertificateFacts(der: Buffer, source: string): CertificateFacts {
  const core = readCertificateCore(der, source);
  try {
    const facts: CertificateFacts = {
      ...core,
      subject: nameViewOf(nameAttributes(core.subjectDer)),
      sans: emptySans(),
      keyUsage: keyUsageNames(core.keyUsageBits ?? 0),
      extKeyUsage: [],
      publicKey: keySpecOfSpki(core.spki),
    };
    // The extensions again (readCertificateCore keeps only what issuing needs from them).
    const extList = children(der, children(der, readElement(der, 0))[0] as Element).find((e) => e.tag === 0xa3);
    for (const ext of extList ? children(der, children(der, extList)[0] as Element) : []) {
      const parts = children(der, ext);
      const id = decodeOid(content(der, parts[0] as Element));
      const value = content(der, parts[parts.length - 1] as Element);
      if (id === EXT.subjectAltName) facts.sans = sansOf(value);
      else if (id === EXT.extKeyUsage) facts.extKeyUsage = children(value, readElement(value, 0)).map((o) => extKeyUsageName(decodeOid(content(value, o))));
      else if (id === EXT.authorityKeyIdentifier) {
        const keyId = children(value, readElement(value, 0)).find((c) => c.tag === 0x80);
        if (keyId) facts.authorityKeyId = content(value, keyId).toString('hex');
      }
    }
    return facts;
  } catch (e) {
    // Whatever a malformed field throws (the walker's DerError, a RangeError from a short buffer...).
    throw fail('BAD_DER', `${source}: not a valid X.509 certificate (${(e as Error).message})`, e);
  }
}
