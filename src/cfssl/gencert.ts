/**
 * The cfssl flows that start from CSR JSON: a new CA (`gencert -initca`, `genkey -initca`), a key and
 * certificate signed by a CA (`gencert`), a key and CSR (`genkey`), a self-signed leaf (`selfsign`).
 * Inputs are validated values, outputs are PEM texts; nothing here touches files or argv.
 */
import type { KeyObject } from 'node:crypto';
import { fail } from '../errors.js';
import type { Issuer } from '../pki/certificate.js';
import { buildCsr } from '../pki/csr.js';
import { toPem } from '../pki/pem.js';
import { hasSans } from '../pki/extensions.js';
import {
  commonNamesOf,
  issueCertificate,
  systemClock,
  systemRandom,
  validityWindow,
  checkValidityWindow,
  type CertificateRequest,
  type Clock,
  type IssuedCertificate,
  type RandomSource,
} from '../pki/issue.js';
import { encodePrivateKeyPem, encryptPrivateKeyPem, generateKeyPair, spkiDer, type PrivateKeyFormat } from '../pki/keys.js';
import { buildName, type Name } from '../pki/name.js';
import { caProfile, type Profile } from '../pki/profile.js';
import { emptySans, parseHosts, type SubjectAltNames } from '../pki/san.js';
import { validatePublicKey } from '../pki/validate.js';
import type { CsrRequest } from './csr.js';
import type { Warn } from './fields.js';
import type { CfsslResult, IssuedLeaf } from './json.js';

export interface FlowOptions {
  warn: Warn;
  /** PEM form of new private keys: cfssl's traditional labels by default, PKCS#8 with -pkcs8. */
  keyFormat?: PrivateKeyFormat;
  clock?: Clock;
  random?: RandomSource;
}

/** cfssl's CA lifetime when the CSR has no `ca.expiry`. */
export const DEFAULT_CA_EXPIRY_MS = 43800 * 3_600_000;

/**
 * `-hostname a,b` replaces the JSON hosts (cfssl). Unlike cfssl, entries are trimmed and an empty
 * or malformed entry is an error; JSON hosts that are empty are left out with a warning.
 */
export function requestSans(req: CsrRequest, hostname: string | undefined, warn: Warn): SubjectAltNames {
  if (hostname !== undefined && hostname !== '') return parseHosts(hostname.split(','), '-hostname', 'error');
  return parseHosts(req.hosts, `${req.source}: hosts`, 'warn', warn);
}

/** A certificate whose validity ends before it is issued, or after 9999, is a configuration mistake, not a certificate. */
function checkNotBornExpired(profile: Profile, clock: Clock, where: string): void {
  checkValidityWindow(profile, clock.now(), where);
}

/**
 * The blog (and the CoreOS guide it follows) gives the CA and its leaves the same expiry, 43800h, so
 * a leaf issued any time after the CA would end after it: strictly an OUTLIVES_CA error, which would
 * break that flow for anyone typing it by hand. A profile expiry equal to the CA's own lifetime is
 * taken to mean "as long as the CA": the leaf ends when the CA does, with a warning. Any other
 * overshoot stays an OUTLIVES_CA error (from issueCertificate).
 */
export function fitToIssuer(profile: Profile, issuer: Issuer, clock: Clock, warn: Warn): Profile {
  if (profile.notAfter) return profile;
  const { notAfter } = validityWindow(profile, clock.now());
  const caLifetime = issuer.cert.notAfter.getTime() - issuer.cert.notBefore.getTime();
  if (notAfter <= issuer.cert.notAfter || profile.expiryMs !== caLifetime) return profile;
  warn(`profile ${profile.name}: its expiry equals the CA's lifetime, so the certificate ends when the CA ${issuer.source} does (${iso(issuer.cert.notAfter)}), not at ${iso(notAfter)}`);
  return { ...profile, notAfter: issuer.cert.notAfter };
}

const iso = (d: Date): string => d.toISOString().replace('.000Z', 'Z');

/**
 * One instant for fitting a profile to its issuer and issuing under it. validityWindow rounds to the
 * nearest minute, so two reads either side of hh:mm:30 disagreed: a leaf fitted to end with its CA by
 * the first read was refused as outliving it by the second.
 */
export function frozenClock(clock: Clock): Clock {
  const now = clock.now();
  return { now: () => new Date(now.getTime()) };
}

function newKey(req: CsrRequest, existing: KeyObject | undefined): KeyObject {
  return existing ?? generateKeyPair(req.key).privateKey;
}

/** The ledger's view of a certificate just issued from `subject` and `sans`. */
export function issuedLeaf(cert: IssuedCertificate, subject: Name | Buffer, sans: SubjectAltNames): IssuedLeaf {
  const cn = Buffer.isBuffer(subject) ? commonNamesOf(subject).at(-1) : subject.filter((a) => a.type === 'CN').at(-1)?.value;
  return { ...cert, sans: [...sans.dns, ...sans.ips, ...sans.emails, ...sans.uris], commonName: cn ?? '' };
}

function pemOutputs(certDer: Buffer | undefined, csrDer: Buffer, key: KeyObject | undefined, format: PrivateKeyFormat, encryptWith?: string): CfsslResult {
  return {
    ...(certDer ? { cert: toPem('CERTIFICATE', certDer) } : {}),
    csr: toPem('CERTIFICATE REQUEST', csrDer),
    ...(key ? { key: encryptWith !== undefined ? encryptPrivateKeyPem(key, encryptWith) : encodePrivateKeyPem(key, format) } : {}),
  };
}

/**
 * A new self-signed CA from CSR JSON (`gencert -initca`). The CSR keeps the JSON hosts, the
 * certificate does not (as cfssl). With `existingKey` (`-initca -ca-key K`) the CA is re-issued
 * for that key and no key is output.
 *
 * @example
 *   const { cert, csr, key } = initCa(parseCsrJson(text, 'ca-csr.json', { initca: true, warn }), { warn });
 */
export function initCa(req: CsrRequest, opts: FlowOptions & { existingKey?: KeyObject; existingKeySource?: string; encryptKeyWith?: string }): CfsslResult {
  const clock = opts.clock ?? systemClock;
  const subject = buildName(req.subject, req.source);
  if (subject.length === 0)
    throw fail('EMPTY_SUBJECT', `${req.source}: a CA needs a subject: set "CN" or at least one "names" entry`);
  const profile: Profile = { ...caProfile(req.ca?.expiryMs ?? DEFAULT_CA_EXPIRY_MS) };
  if (req.ca?.backdateMs !== undefined) profile.backdateMs = req.ca.backdateMs;
  checkNotBornExpired(profile, clock, `${req.source}: ca.expiry`);
  const sans = parseHosts(req.hosts, `${req.source}: hosts`, 'warn', opts.warn);

  const privateKey = newKey(req, opts.existingKey);
  const ca = req.ca ? { ...(req.ca.pathLen !== undefined ? { pathLen: req.ca.pathLen } : {}) } : undefined;
  if (opts.existingKey) validatePublicKey(spkiDer(opts.existingKey), opts.existingKeySource ?? '-ca-key');
  const csr = buildCsr({ subject, sans, source: req.source, ...(ca ? { ca } : {}) }, privateKey);
  const request: CertificateRequest = { subject, publicKey: spkiDer(privateKey), sans: emptySans(), source: req.source, ...(ca ? { ca } : {}) };
  const cert = issueCertificate(request, profile, { selfSigned: true, privateKey }, clock, opts.random ?? systemRandom);
  return pemOutputs(cert.der, csr, opts.existingKey ? undefined : privateKey, opts.keyFormat ?? 'traditional', opts.encryptKeyWith);
}

function leafSubject(req: CsrRequest, sans: SubjectAltNames): Name {
  const subject = buildName(req.subject, req.source);
  if (subject.length === 0 && !hasSans(sans))
    throw fail('EMPTY_SUBJECT', `${req.source}: no "CN", no "names" and no hosts; a certificate must name its subject somewhere`);
  return subject;
}

export interface GenCertOptions extends FlowOptions {
  issuer: Issuer;
  profile: Profile;
  /** The -hostname flag: replaces the JSON hosts in both the CSR and the certificate. */
  hostname?: string;
}

/**
 * A new key, its CSR and a certificate signed by `issuer` under `profile` (`gencert -ca ...`).
 * Errors: OUTLIVES_CA, CA_NOT_ALLOWED, NAME_NOT_ALLOWED (from the pki core), BAD_HOSTNAME.
 */
export function genCert(req: CsrRequest, opts: GenCertOptions): CfsslResult {
  const clock = frozenClock(opts.clock ?? systemClock);
  const sans = requestSans(req, opts.hostname, opts.warn);
  const subject = leafSubject(req, sans);
  checkNotBornExpired(opts.profile, clock, `profile ${opts.profile.name}`);
  const profile = fitToIssuer(opts.profile, opts.issuer, clock, opts.warn);
  if (!hasSans(sans) && profile.usages.extKeyUsage.includes('serverAuth'))
    opts.warn(`${req.source}: no hosts and no -hostname: a server certificate without SANs matches no address (clients will reject it)`);

  const privateKey = generateKeyPair(req.key).privateKey;
  const csr = buildCsr({ subject, sans, source: req.source }, privateKey);
  const cert = issueCertificate({ subject, publicKey: spkiDer(privateKey), sans, source: req.source }, profile, opts.issuer, clock, opts.random ?? systemRandom);
  return { ...pemOutputs(cert.der, csr, privateKey, opts.keyFormat ?? 'traditional'), issued: issuedLeaf(cert, subject, sans) };
}

/** A new key and its CSR (`genkey`). */
export function genKey(req: CsrRequest, opts: FlowOptions): CfsslResult {
  const sans = requestSans(req, undefined, opts.warn);
  const subject = leafSubject(req, sans);
  const privateKey = generateKeyPair(req.key).privateKey;
  return pemOutputs(undefined, buildCsr({ subject, sans, source: req.source }, privateKey), privateKey, opts.keyFormat ?? 'traditional');
}

/** cfssl selfsign's lifetime when no -config is given: three months. */
export const SELFSIGN_EXPIRY_MS = 2190 * 3_600_000;

/**
 * A self-signed leaf (`selfsign HOSTNAME CSRJSON`). HOSTNAME replaces the JSON hosts and, unlike in
 * cfssl 1.2.0, lands in the certificate's SANs.
 */
export function selfSign(req: CsrRequest, hostname: string, opts: FlowOptions & { profile: Profile }): CfsslResult {
  const clock = opts.clock ?? systemClock;
  const sans = requestSans(req, hostname, opts.warn);
  const subject = leafSubject(req, sans);
  checkNotBornExpired(opts.profile, clock, `profile ${opts.profile.name}`);
  const privateKey = generateKeyPair(req.key).privateKey;
  const csr = buildCsr({ subject, sans, source: req.source }, privateKey);
  const cert = issueCertificate(
    { subject, publicKey: spkiDer(privateKey), sans, source: req.source },
    opts.profile,
    { selfSigned: true, privateKey },
    clock,
    opts.random ?? systemRandom,
  );
  return pemOutputs(cert.der, csr, privateKey, opts.keyFormat ?? 'traditional');
}
