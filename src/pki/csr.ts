/**
 * PKCS#10 certificate requests (RFC 2986): building them, and reading what signing needs with the
 * TLV walker (readCsrCore). The full typed view for humans is inspectCsr in inspect.ts.
 */
import { sign, verify, type KeyObject } from 'node:crypto';
import { fail } from '../errors.js';
import { sansOf } from './certificate.js';
import { bitString, children, content, decodeOid, DerError, implicitConstructed, oid, raw, readElement, sequence, setOf, smallInteger, TAG } from './der.js';
import { basicConstraints, encodeExtension, hasSans, subjectAltName, type Extension } from './extensions.js';
import { publicKeyFromSpki, signatureAlgorithmFor, spkiDer } from './keys.js';
import { encodeName, type Name } from './name.js';
import type { SubjectAltNames } from './san.js';
import { validateRequest } from './validate.js';

const EXTENSION_REQUEST = '1.2.840.113549.1.9.14';

export interface CsrInput {
  subject: Name;
  sans: SubjectAltNames;
  /** Ask for a CA certificate (cfssl writes BasicConstraints into the CA CSR when `ca` is given). */
  ca?: { pathLen?: number };
  /** Names the request's origin in errors. */
  source?: string;
}

/** Build and sign a CSR with `privateKey`; returns DER. Leaf SANs go into an extensionRequest attribute. */
export function buildCsr(input: CsrInput, privateKey: KeyObject): Buffer {
  const exts: Extension[] = [];
  if (hasSans(input.sans)) exts.push(subjectAltName(input.sans, input.subject.length === 0));
  if (input.ca) exts.push(basicConstraints(true, input.ca.pathLen));
  const attributes = exts.length
    ? [sequence(oid(EXTENSION_REQUEST), setOf(sequence(...exts.map(encodeExtension))))]
    : [];
  const spki = spkiDer(privateKey);
  validateRequest({ subject: input.subject, sans: input.sans, publicKey: spki }, input.source ?? 'request');
  const info = sequence(
    smallInteger(0),
    encodeName(input.subject),
    spki,
    implicitConstructed(0, Buffer.concat(attributes)),
  );
  const alg = signatureAlgorithmFor(privateKey);
  return sequence(info, alg.algorithmIdentifier, bitString(sign(alg.digest, info, privateKey)));
}

/** What signing a CSR needs from it. */
export interface CsrCore {
  subjectDer: Buffer;
  publicKeySpki: Buffer;
  sans: SubjectAltNames;
  /** Set when the CSR asks for CA:TRUE. */
  ca?: { pathLen?: number };
  signatureValid: boolean;
}

/** Digest of each CSR signature algorithm this reader verifies (null: the algorithm hashes itself). */
const CSR_SIGNATURE_DIGESTS: Record<string, string | null> = {
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.1': 'sha1',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': null,
};

const SAN_OID = '2.5.29.17';
const BASIC_CONSTRAINTS_OID = '2.5.29.19';

/**
 * Decode a DER CSR with the TLV walker and verify its self-signature: ~20x cheaper than inspectCsr's
 * schema decoder, which dominated a signing server's time per request. test/unit/pki-csr-core.test.ts
 * holds it to inspectCsr's answers. Errors: BAD_DER (malformed), BAD_KEY (unusable public key).
 */
export function readCsrCore(der: Buffer, source: string): CsrCore {
  let parts;
  try {
    const top = readElement(der, 0);
    if (top.end !== der.length) throw new DerError('trailing bytes after the CSR');
    const [infoEl, algEl, sigEl] = children(der, top);
    if (!infoEl || !algEl || sigEl?.tag !== TAG.BIT_STRING) throw new DerError('CertificationRequest is missing fields');
    const [version, subject, spki, attrs] = children(der, infoEl);
    if (version?.tag !== TAG.INTEGER || !subject || !spki) throw new DerError('CertificationRequestInfo is missing fields');
    const algOid = children(der, algEl)[0];
    if (algOid?.tag !== TAG.OID) throw new DerError('malformed signature algorithm');
    const core: Omit<CsrCore, 'signatureValid'> = { subjectDer: raw(der, subject), publicKeySpki: raw(der, spki), sans: { dns: [], ips: [], emails: [], uris: [] } };
    for (const attr of attrs ? children(der, attrs) : []) {
      const [type, values] = children(der, attr);
      if (type?.tag !== TAG.OID || !values) throw new DerError('malformed attribute');
      if (decodeOid(content(der, type)) !== '1.2.840.113549.1.9.14') continue;
      for (const extList of children(der, values))
        for (const ext of children(der, extList)) {
          const fields = children(der, ext);
          const id = fields[0];
          const value = fields[fields.length - 1];
          if (fields.length < 2 || id?.tag !== TAG.OID || value?.tag !== TAG.OCTET_STRING) throw new DerError('malformed extension');
          const extId = decodeOid(content(der, id));
          if (extId === SAN_OID) core.sans = sansOf(content(der, value));
          if (extId === BASIC_CONSTRAINTS_OID) {
            const bc = content(der, value);
            let isCA = false;
            let pathLen: number | undefined;
            for (const c of children(bc, readElement(bc, 0))) {
              if (c.tag === TAG.BOOLEAN) isCA = bc[c.contentStart] !== 0;
              if (c.tag === TAG.INTEGER) pathLen = content(bc, c).readUIntBE(0, Math.min(6, c.end - c.contentStart));
            }
            if (isCA) core.ca = pathLen !== undefined ? { pathLen } : {};
          }
        }
    }
    parts = { core, info: raw(der, infoEl), algorithm: decodeOid(content(der, algOid)), signature: content(der, sigEl).subarray(1) };
  } catch (e) {
    if (e instanceof DerError || e instanceof RangeError) throw fail('BAD_DER', `${source}: not a valid PKCS#10 certificate request (${(e as Error).message})`);
    throw e;
  }
  const digest = CSR_SIGNATURE_DIGESTS[parts.algorithm];
  let signatureValid = false;
  if (digest !== undefined) {
    try {
      signatureValid = verify(digest, parts.info, publicKeyFromSpki(parts.core.publicKeySpki), parts.signature);
    } catch (e) {
      throw fail('BAD_KEY', `${source}: the CSR's public key cannot be parsed (${(e as Error).message})`);
    }
  }
  return { ...parts.core, signatureValid };
}
