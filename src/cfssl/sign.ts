/**
 * `sign`: certify an existing PKCS#10 CSR with a CA. The CSR is decoded and its signature verified
 * (inspect.ts), its subject is kept byte for byte unless a SUBJECT file replaces it, and -hostname
 * replaces its SANs (cfssl's rules).
 */
import { fail } from '../errors.js';
import type { Issuer } from '../pki/certificate.js';
import { children, content, decodeOid, DerError, readElement, sequence } from '../pki/der.js';
import { parsePemBlocks, toPem } from '../pki/pem.js';
import { issueCertificate, systemClock, systemRandom, type CertificateRequest, type Clock, type RandomSource } from '../pki/issue.js';
import { readCsrCore, type CsrCore } from '../pki/csr.js';
import { buildName, NAME_OIDS, type NameSpec } from '../pki/name.js';
import type { Profile } from '../pki/profile.js';
import { parseHosts } from '../pki/san.js';
import { fitToIssuer, frozenClock, issuedLeaf } from './gencert.js';
import type { Warn } from './fields.js';
import type { CfsslResult } from './json.js';

const CSR_LABELS = ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'];

/** Decode a PEM CSR and verify its self-signature; BAD_PEM / BAD_DER / BAD_CSR_SIGNATURE name `source`. */
export function parseCsrPem(pem: string, source: string): CsrCore {
  let blocks;
  try {
    blocks = parsePemBlocks(pem);
  } catch (e) {
    if (e instanceof DerError) throw fail('BAD_PEM', `${source}: ${e.message}`);
    throw e;
  }
  const block = blocks.find((b) => CSR_LABELS.includes(b.label));
  if (!block) {
    const found = blocks[0]?.label;
    throw fail('BAD_PEM', `${source}: expected a PEM "CERTIFICATE REQUEST" block${found ? `, found "${found}"` : ', found no PEM block'}`);
  }
  const view = readCsrCore(block.der, source);
  if (!view.signatureValid)
    throw fail('BAD_CSR_SIGNATURE', `${source}: the CSR's signature does not verify with its own public key (the CSR was altered or corrupted)`);
  return view;
}

// cfssl 1.2.0 rebuilds the subject through Go's pkix.Name, so its certificates list C, ST, L, street,
// postalCode, O, OU, CN, serialNumber in that order whatever the CSR's order was.
const CFSSL_RDN_RANK = new Map<string, number>(
  (['C', 'ST', 'L', 'street', 'postalCode', 'O', 'OU', 'CN', 'serialNumber'] as const).map((t, i) => [NAME_OIDS[t], i]),
);

/**
 * The CSR's subject with its RDNs in cfssl's order, each RDN kept byte for byte (string types too).
 * Unlike cfssl, attributes pkix.Name does not model (emailAddress, custom OIDs) are kept, after the
 * others, instead of silently dropped.
 */
export function cfsslSubjectOrder(subjectDer: Buffer, source: string): Buffer {
  try {
    const rdns = children(subjectDer, readElement(subjectDer, 0)).map((rdn, i) => {
      const first = children(subjectDer, rdn)[0];
      const type = first ? children(subjectDer, first)[0] : undefined;
      const rank = type ? (CFSSL_RDN_RANK.get(decodeOid(content(subjectDer, type))) ?? CFSSL_RDN_RANK.size) : CFSSL_RDN_RANK.size;
      return { rank, i, bytes: subjectDer.subarray(rdn.start, rdn.end) };
    });
    rdns.sort((a, b) => a.rank - b.rank || a.i - b.i);
    return sequence(...rdns.map((r) => r.bytes));
  } catch (e) {
    if (e instanceof DerError || e instanceof RangeError) throw fail('BAD_DER', `${source}: subject: not a valid X.500 name (${e.message})`);
    throw e;
  }
}

export interface SignOptions {
  issuer: Issuer;
  profile: Profile;
  /** -hostname: replaces the CSR's SANs. */
  hostname?: string;
  /** SUBJECT file contents: replaces the CSR's subject. */
  subject?: NameSpec;
  subjectSource?: string;
  clock?: Clock;
  random?: RandomSource;
  warn?: Warn;
}

/**
 * Sign the CSR in `csrPem`. Returns `{cert, csr}` where csr is the input echoed back, as cfssl does.
 *
 * @example
 *   const { cert } = signCsr(readFileSync('server.csr', 'utf8'), 'server.csr', { issuer, profile });
 */
export function signCsr(csrPem: string, source: string, opts: SignOptions): CfsslResult {
  const view = parseCsrPem(csrPem, source);
  const sans = opts.hostname ? parseHosts(opts.hostname.split(','), '-hostname', 'error') : view.sans;
  const subject = opts.subject ? buildName(opts.subject, opts.subjectSource ?? 'subject') : cfsslSubjectOrder(view.subjectDer, source);
  const request: CertificateRequest = {
    subject,
    publicKey: view.publicKeySpki,
    sans,
    source,
    ...(view.ca ? { ca: view.ca } : {}),
  };
  const clock = frozenClock(opts.clock ?? systemClock);
  const profile = fitToIssuer(opts.profile, opts.issuer, clock, opts.warn ?? (() => {}));
  const cert = issueCertificate(request, profile, opts.issuer, clock, opts.random ?? systemRandom);
  return { cert: toPem('CERTIFICATE', cert.der), csr: csrPem, issued: issuedLeaf(cert, subject, sans) };
}
