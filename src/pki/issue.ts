/**
 * Issuing certificates from a request, a profile and an issuer. Pure apart from the injected clock
 * and randomness: the same inputs give the same bytes, which the tests rely on.
 */
import { randomBytes, randomFillSync, sign, type KeyObject } from 'node:crypto';
import { fail } from '../errors.js';
import { children, content, decodeOid, DerError, el, encode, explicit, type Part, readElement, sequence, smallInteger, TAG, time, unsignedInteger } from './der.js';
import { subjectPublicKeyBits, type Issuer } from './certificate.js';
import {
  authorityInfoAccess,
  authorityKeyIdentifier,
  basicConstraints,
  certificatePolicies,
  crlDistributionPoints,
  encodeExtension,
  extKeyUsage,
  hasSans,
  keyIdentifier,
  keyUsage,
  ocspNoCheck,
  subjectAltName,
  subjectKeyIdentifier,
  type Extension,
} from './extensions.js';
import { keyMatchesPublicKey, signatureAlgorithmFor } from './keys.js';
import { encodeName, NAME_OIDS, type Name } from './name.js';
import type { Profile } from './profile.js';
import type { SubjectAltNames } from './san.js';
import { validateRequest } from './validate.js';

export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

/** Returns n random bytes. Injected so tests can pin serial numbers. */
export type RandomSource = (n: number) => Buffer;

// randomBytes(20) for each serial costs ~4 µs (one call into OpenSSL's DRBG each); slicing a pool
// filled 4 KiB at a time costs a tenth of that. Each byte is handed out once, as a copy of its own.
const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafeSlow(POOL_SIZE);
let poolOffset = POOL_SIZE; // empty: filled on first use
export const systemRandom: RandomSource = (n) => {
  if (n > POOL_SIZE / 8) return randomBytes(n);
  if (poolOffset + n > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const out = Buffer.allocUnsafe(n);
  pool.copy(out, 0, poolOffset, poolOffset + n);
  poolOffset += n;
  return out;
};

/** What is to be certified; built from a CSR or from cfssl JSON, validated before it gets here. */
export interface CertificateRequest {
  /** The subject as attributes, or as raw DER when it comes from a CSR (kept byte for byte). */
  subject: Name | Buffer;
  /** SubjectPublicKeyInfo DER. */
  publicKey: Buffer;
  sans: SubjectAltNames;
  /** Present when the request asks for a CA certificate. */
  ca?: { pathLen?: number };
  /** Names the request's origin in errors: a file, `spec: nodes/m1/server`. */
  source?: string;
}

export interface IssuedCertificate {
  der: Buffer;
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
}

/** Self-signing: the request's own key signs, and the issuer name is the subject. */
export interface SelfSigner {
  selfSigned: true;
  privateKey: KeyObject;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

/**
 * Below this lifetime a certificate is short-lived (step's model): valid from now minus the backdate
 * until now plus the expiry, so "5m" means five minutes of use. Above it, cfssl's window, where the
 * five minutes of backdate taken from the end do not matter.
 */
export const SHORT_LIVED_BELOW_MS = DAY;

/** The last instant X.509 can express (RFC 5280 4.1.2.5: GeneralizedTime 99991231235959Z). */
export const LAST_X509_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59);

/**
 * cfssl: notBefore = now rounded to the minute minus the backdate; notAfter = notBefore + expiry.
 * A short-lived certificate (expiry under a day) instead runs from now (to the second) minus the
 * backdate (at most a tenth of the expiry) to now plus the expiry: cfssl's rule made a 5m certificate that expired as it was issued.
 * A fixed not_before / not_after replaces its half of that, each on its own (as in cfssl's FillTemplate).
 */
export function validityWindow(profile: Profile, now: Date): { notBefore: Date; notAfter: Date } {
  if (profile.expiryMs < SHORT_LIVED_BELOW_MS) {
    // Whole seconds, so the encoded window is exactly expiry + backdate long (see expectedLifetimeMs).
    const second = Math.floor(now.getTime() / 1000) * 1000;
    const notBefore = profile.notBefore ?? new Date(second - shortLivedBackdateMs(profile));
    return { notBefore, notAfter: profile.notAfter ?? new Date(second + profile.expiryMs) };
  }
  const rounded = Math.round(now.getTime() / MINUTE) * MINUTE;
  const notBefore = profile.notBefore ?? new Date(rounded - profile.backdateMs);
  return { notBefore, notAfter: profile.notAfter ?? new Date(notBefore.getTime() + profile.expiryMs) };
}

/**
 * A short-lived certificate is backdated by at most a tenth of its expiry (whole seconds): five minutes
 * of backdate on a 2m certificate would make it due for renewal (a third of its lifetime left) at birth.
 */
function shortLivedBackdateMs(profile: Pick<Profile, 'expiryMs' | 'backdateMs'>): number {
  return Math.min(profile.backdateMs, Math.floor(profile.expiryMs / 10_000) * 1000);
}

/** notAfter - notBefore of a certificate issued under a profile without fixed dates. */
export function expectedLifetimeMs(profile: Pick<Profile, 'expiryMs' | 'backdateMs'>): number {
  return profile.expiryMs < SHORT_LIVED_BELOW_MS ? profile.expiryMs + shortLivedBackdateMs(profile) : profile.expiryMs;
}

/**
 * Refuse a window no certificate can carry: one that ends before it is issued, or after 9999-12-31
 * (`"expiry":"9000y"`). `where` names the file and field for the one-line error.
 */
export function checkValidityWindow(profile: Profile, now: Date, where: string): { notBefore: Date; notAfter: Date } {
  const window = validityWindow(profile, now);
  const end = window.notAfter.getTime();
  if (!Number.isFinite(end) || end > LAST_X509_TIME_MS)
    throw fail('BAD_VALIDITY', `${where}: the certificate would be valid until ${Number.isFinite(end) ? `the year ${window.notAfter.getUTCFullYear()}` : 'past any date'}, after 9999-12-31, the last date a certificate can carry; choose a shorter expiry`);
  if (end <= window.notBefore.getTime())
    throw fail('BAD_VALIDITY', `${where}: not_after ${iso(window.notAfter)} is not after not_before ${iso(window.notBefore)}`);
  if (end <= now.getTime())
    throw fail('BAD_VALIDITY', `${where}: the certificate would expire at ${iso(window.notAfter)}, before it is issued (not_after is in the past)`);
  return window;
}

/** 20 random bytes, top bit cleared and never a leading zero byte: positive, 20 octets, 159 random bits. */
export function newSerial(random: RandomSource): Buffer {
  const serial = random(20);
  serial[0] = (serial[0] as number) & 0x7f || 0x01;
  return serial;
}

/** The CN values of a DER Name: a subject kept as bytes from a CSR is still subject to name_whitelist. */
export function commonNamesOf(subjectDer: Buffer): string[] {
  const out: string[] = [];
  try {
    for (const rdn of children(subjectDer, readElement(subjectDer, 0)))
      for (const atv of children(subjectDer, rdn)) {
        const [type, value] = children(subjectDer, atv);
        if (!type || !value || decodeOid(content(subjectDer, type)) !== NAME_OIDS.CN) continue;
        const bytes = content(subjectDer, value);
        // BMPString is UTF-16BE; reading it as UTF-8 could make a name pass that is not the one certified.
        out.push(value.tag === 0x1e ? Buffer.from(bytes).swap16().toString('utf16le') : bytes.toString('utf8'));
      }
  } catch (e) {
    if (e instanceof DerError || e instanceof RangeError) throw fail('BAD_DER', `request subject: not a valid X.500 name (${e.message})`);
    throw e;
  }
  return out;
}

function checkWhitelist(profile: Profile, subject: Name | Buffer, sans: SubjectAltNames): void {
  const re = profile.nameWhitelist;
  if (!re) return;
  const cns = Buffer.isBuffer(subject) ? commonNamesOf(subject) : subject.filter((a) => a.type === 'CN').map((a) => a.value);
  const names = [...cns, ...sans.dns, ...sans.emails, ...sans.uris];
  const bad = names.find((n) => !re.test(n));
  if (bad !== undefined)
    throw fail('NAME_NOT_ALLOWED', `profile ${profile.name}: "${bad}" does not match name_whitelist ${re.source}`);
}

// The extensions fixed by the profile are encoded once per profile, not once per certificate.
const leadingCache = new WeakMap<Profile, Map<string, Buffer[]>>();
function profileExtensions(profile: Profile, makesCA: boolean, pathLen: number | undefined): Buffer[] {
  let byShape = leadingCache.get(profile);
  if (!byShape) leadingCache.set(profile, (byShape = new Map<string, Buffer[]>()));
  // A constant key for leaves: building `false/` per certificate, then hashing it, showed in profiles.
  const key = makesCA ? `ca/${pathLen ?? ''}` : 'leaf';
  let exts = byShape.get(key);
  if (!exts) {
    const { keyUsage: ku, extKeyUsage: eku } = profile.usages;
    const list: Extension[] = [];
    if (ku.length) list.push(keyUsage(ku));
    // No EKU on CA certificates: Go rejects chains whose CA lists EKUs narrower than the leaf's.
    if (eku.length && !makesCA) list.push(extKeyUsage(eku));
    list.push(basicConstraints(makesCA, pathLen));
    exts = list.map(encodeExtension);
    byShape.set(key, exts);
  }
  return exts;
}

const trailingCache = new WeakMap<Profile, Buffer[]>();
function profileTrailingExtensions(profile: Profile): Buffer[] {
  let exts = trailingCache.get(profile);
  if (!exts) {
    const list: Extension[] = [];
    if (profile.crlUrls?.length) list.push(crlDistributionPoints(profile.crlUrls));
    if (profile.policies?.length) list.push(certificatePolicies(profile.policies));
    if (profile.ocspNoCheck) list.push(ocspNoCheck());
    exts = list.map(encodeExtension);
    trailingCache.set(profile, exts);
  }
  return exts;
}

// Validity is rounded to the minute, so a batch of certificates shares one: the last encoding is kept
// (~2 µs a certificate: two time strings and their buffers).
let lastValidity: { notBefore: number; notAfter: number; der: Buffer } | undefined;
function validityDer(notBefore: Date, notAfter: Date): Buffer {
  const nb = notBefore.getTime();
  const na = notAfter.getTime();
  if (lastValidity?.notBefore !== nb || lastValidity.notAfter !== na)
    lastValidity = { notBefore: nb, notAfter: na, der: sequence(time(notBefore), time(notAfter)) };
  return lastValidity.der;
}

// The AKI is the issuer's for every certificate it signs: encoded once per issuer.
const akiCache = new WeakMap<Issuer, Buffer>();
function authorityKeyIdExtension(issuer: Issuer): Buffer {
  let ext = akiCache.get(issuer);
  if (!ext) akiCache.set(issuer, (ext = encodeExtension(authorityKeyIdentifier(issuer.keyId))));
  return ext;
}

/** The serial INTEGER: its bytes as they are when already minimal and positive (newSerial's always are). */
const serialInteger = (serial: Buffer): Part =>
  serial.length > 0 && serial[0] !== 0 && ((serial[0] as number) & 0x80) === 0 ? el(TAG.INTEGER, [serial]) : unsignedInteger(serial);

const VERSION_3 = explicit(0, smallInteger(2));
const NO_UNUSED_BITS = Buffer.from([0]);
const iso = (d: Date): string => d.toISOString().replace('.000Z', 'Z');

/**
 * Issue a certificate. Errors: OUTLIVES_CA when the validity would end after the issuer's,
 * CA_NOT_ALLOWED when a CA is requested that the profile or issuer may not issue, NO_USAGES.
 *
 * @example
 *   const { der } = issueCertificate(request, ETCD_PROFILES.server, issuer, systemClock, systemRandom);
 */
export function issueCertificate(
  request: CertificateRequest,
  profile: Profile,
  issuer: Issuer | SelfSigner,
  clock: Clock = systemClock,
  random: RandomSource = systemRandom,
): IssuedCertificate {
  const self = 'selfSigned' in issuer;
  const subjectDer = Buffer.isBuffer(request.subject) ? request.subject : encodeName(request.subject);
  if (profile.usages.keyUsage.length + profile.usages.extKeyUsage.length === 0) throw fail('NO_USAGES', `profile ${profile.name}: allows no key usage`);
  // Every issuing path passes here: a subject or SAN from a CSR is as untrusted as one from JSON.
  validateRequest(request, request.source ?? 'request');
  checkWhitelist(profile, request.subject, request.sans);
  if (self && !keyMatchesPublicKey(issuer.privateKey, request.publicKey))
    throw fail('KEY_MISMATCH', 'the private key given for self-signing does not belong to the request public key');

  const now = clock.now();
  const { notBefore, notAfter } = checkValidityWindow(profile, now, `profile ${profile.name}`);
  // getTime(), not Date relational operators: those convert both Dates through ToPrimitive (~0.13 µs a comparison).
  if (!self && issuer.cert.notBefore.getTime() > now.getTime())
    throw fail(
      'CA_NOT_YET_VALID',
      `${issuer.source}: is not valid until ${iso(issuer.cert.notBefore)} (now ${iso(now)}); a certificate issued from it would not verify before then: check this machine's clock or re-issue the CA`,
    );
  if (!self && notAfter.getTime() > issuer.cert.notAfter.getTime())
    throw fail(
      'OUTLIVES_CA',
      `the certificate would be valid until ${iso(notAfter)}, after its CA ${issuer.source} expires at ${iso(issuer.cert.notAfter)}; shorten the profile expiry or renew the CA`,
    );

  // A CA certificate needs a profile that allows it and an issuer whose path length leaves room.
  const makesCA = request.ca !== undefined || Boolean(profile.caConstraint?.isCA && self);
  if (makesCA) {
    if (!profile.caConstraint?.isCA)
      throw fail('CA_NOT_ALLOWED', `profile ${profile.name}: does not allow issuing CA certificates (set ca_constraint.is_ca)`);
    if (!self && issuer.cert.pathLen === 0)
      throw fail('CA_NOT_ALLOWED', `${issuer.source}: has pathlen 0 and may not issue CA certificates`);
  }
  const pathLen = makesCA ? (profile.caConstraint?.maxPathLen ?? request.ca?.pathLen) : undefined;

  const signingKey = issuer.privateKey;
  const alg = signatureAlgorithmFor(signingKey);
  const ownKeyId = keyIdentifier(subjectPublicKeyBits(request.publicKey));

  // Go's extension order, so our certificates diff cleanly against cfssl's.
  const exts: Part[] = profileExtensions(profile, makesCA, pathLen).slice();
  exts.push(encodeExtension(subjectKeyIdentifier(ownKeyId)));
  exts.push(self ? encodeExtension(authorityKeyIdentifier(ownKeyId)) : authorityKeyIdExtension(issuer));
  if (profile.ocspUrls?.length || profile.issuerUrls?.length)
    exts.push(encodeExtension(authorityInfoAccess(profile.ocspUrls ?? [], profile.issuerUrls ?? [])));
  if (hasSans(request.sans)) exts.push(encodeExtension(subjectAltName(request.sans, subjectDer.length <= 2)));
  for (const e of profileTrailingExtensions(profile)) exts.push(e);

  // The TBS is written into one buffer (der.ts el/encode), and the certificate around it into another.
  const serial = newSerial(random);
  const tbs = encode(
    el(TAG.SEQUENCE, [
      VERSION_3,
      serialInteger(serial),
      alg.algorithmIdentifier,
      self ? subjectDer : issuer.cert.subjectDer,
      validityDer(notBefore, notAfter),
      subjectDer,
      request.publicKey,
      el(0xa3, [el(TAG.SEQUENCE, exts)]),
    ]),
  );
  const signature = sign(alg.digest, tbs, signingKey);
  const der = encode(el(TAG.SEQUENCE, [tbs, alg.algorithmIdentifier, el(TAG.BIT_STRING, [NO_UNUSED_BITS, signature])]));
  return { der, serialHex: serial.toString('hex'), notBefore, notAfter };
}
