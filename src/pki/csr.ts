/**
 * Building PKCS#10 certificate requests (RFC 2986). Parsing and verification are in inspect.ts.
 */
import { sign, type KeyObject } from 'node:crypto';
import { bitString, implicitConstructed, oid, sequence, setOf, smallInteger } from './der.js';
import { basicConstraints, encodeExtension, hasSans, subjectAltName, type Extension } from './extensions.js';
import { signatureAlgorithmFor, spkiDer } from './keys.js';
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
