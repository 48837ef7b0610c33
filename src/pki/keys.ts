/**
 * Keys: generation, PEM encoding in both the traditional (PKCS#1 / SEC1) and PKCS#8 forms, parsing,
 * and the signature algorithm a key signs with. All crypto is node:crypto (native OpenSSL).
 */
import {
  createECDH,
  createPrivateKey,
  createPublicKey,
  generateKeyPair as generateKeyPairCb,
  generateKeyPairSync,
  type ECDH,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { fail } from '../errors.js';
import { bitString, children, content, decodeOid, DerError, explicit, nullValue, octetString, oid, readElement, sequence, smallInteger, TAG, unsignedInteger, type Element } from './der.js';
import { parsePemBlocks, toPem, type PemBlock } from './pem.js';

export type KeyAlgorithm = 'rsa' | 'ecdsa' | 'ed25519';

/** The cfssl `key` object: `{"algo":"ecdsa","size":256}`. Ed25519 has no size (0). */
export interface KeySpec {
  algo: KeyAlgorithm;
  size: number;
}

export const DEFAULT_KEY_SPEC: KeySpec = { algo: 'ecdsa', size: 256 };

/** The ECDSA curves, by key size: JOSE/keygen name, OpenSSL name, OID, and the byte length of a coordinate. */
interface Curve {
  jose: string;
  openssl: string;
  oid: string;
  bytes: number;
}
const EC: Record<number, Curve> = {
  256: { jose: 'P-256', openssl: 'prime256v1', oid: '1.2.840.10045.3.1.7', bytes: 32 },
  384: { jose: 'P-384', openssl: 'secp384r1', oid: '1.3.132.0.34', bytes: 48 },
  521: { jose: 'P-521', openssl: 'secp521r1', oid: '1.3.132.0.35', bytes: 66 },
};
/** The key size of the curve whose `pick` name is `name`. */
function ecSizeOf(pick: (c: Curve) => string, name: string | undefined): number | undefined {
  for (const [size, curve] of Object.entries(EC)) if (pick(curve) === name) return Number(size);
  return undefined;
}
/** The key size of the named curve with this OID (undefined: not a curve etcd-tls handles). */
export const ecSizeOfOid = (curveOid: string): number | undefined => ecSizeOf((c) => c.oid, curveOid);
const EC_PUBLIC_KEY_OID = '1.2.840.10045.2.1';

/**
 * Check a key spec; `where` names the file and field for the error message.
 * RSA: 2048-8192 like cfssl (3072 and 4096 are the usual); ECDSA: 256, 384, 521; Ed25519: any size field ignored.
 */
export function validateKeySpec(spec: KeySpec, where: string): KeySpec {
  switch (spec.algo) {
    case 'rsa':
      if (!Number.isInteger(spec.size) || spec.size < 2048)
        throw fail('BAD_KEY_SPEC', `${where}: RSA key size ${spec.size} is too weak (minimum 2048; use 2048, 3072 or 4096)`);
      if (spec.size > 8192) throw fail('BAD_KEY_SPEC', `${where}: RSA key size ${spec.size} is too large (maximum 8192)`);
      if (spec.size % 8 !== 0) throw fail('BAD_KEY_SPEC', `${where}: RSA key size ${spec.size} is not a multiple of 8`);
      return spec;
    case 'ecdsa':
      if (!(spec.size in EC))
        throw fail('BAD_KEY_SPEC', `${where}: ECDSA size ${spec.size} is not a supported curve (use 256, 384 or 521)`);
      return spec;
    case 'ed25519':
      return { algo: 'ed25519', size: 0 };
    default:
      throw fail('BAD_KEY_SPEC', `${where}: key algorithm "${String((spec as KeySpec).algo)}" is not supported (use rsa, ecdsa or ed25519)`);
  }
}

/**
 * Refuse an existing key (a CSR's, a CA's) that etcd-tls would not generate itself: the rules of
 * validateKeySpec, plus an EC curve other than P-256/384/521 (read as size 0). `where` names the
 * file and which key: `ca-key.pem: CA key`, `req.csr: public key`.
 */
export function validateExistingKey(spec: KeySpec, where: string): void {
  if (spec.algo === 'ecdsa' && spec.size === 0)
    throw fail('BAD_KEY_SPEC', `${where}: its EC curve is not P-256, P-384 or P-521 (Go's TLS stack, and so etcd, cannot use it)`);
  validateKeySpec(spec, `${where} ${describeKeySpec(spec)}`);
}

export function describeKeySpec(spec: KeySpec): string {
  return spec.algo === 'ed25519' ? 'ed25519' : `${spec.algo}-${spec.size}`;
}

function keygenArgs(spec: KeySpec): ['rsa', { modulusLength: number }] | ['ec', { namedCurve: string }] | ['ed25519', object] {
  if (spec.algo === 'rsa') return ['rsa', { modulusLength: spec.size }];
  if (spec.algo === 'ecdsa') return ['ec', { namedCurve: (EC[spec.size] as Curve).jose }];
  return ['ed25519', {}];
}

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/**
 * Generate a key pair on the calling thread.
 *
 * The keys are re-imported rather than returned as generateKeyPairSync made them: in Node 20 the sync
 * keygen job locks its key's mutex when the garbage collector finalizes it, so a GC during a JWK export
 * or `asymmetricKeyDetails` of that same key (both lock it and allocate) deadlocks the process
 * (test/unit/pki-keys.test.ts reproduces it). Imported keys belong to no job. Costs ~200 µs per EC key.
 */
export function generateKeyPair(spec: KeySpec): KeyPair {
  const [type, opts] = keygenArgs(spec);
  // @types/node lacks the 'jwk' keygen encoding that Node 20 supports.
  const keygen = generateKeyPairSync as unknown as (type: string, options: object) => { privateKey: JsonWebKey };
  const { privateKey: jwk } = keygen(type, { ...opts, privateKeyEncoding: { format: 'jwk' } });
  const privateKey = createPrivateKey({ key: jwk, format: 'jwk' });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/** Generate on libuv's thread pool: RSA generation of many keys then uses every core. */
export function generateKeyPairAsync(spec: KeySpec): Promise<KeyPair> {
  const [type, opts] = keygenArgs(spec);
  return new Promise((resolve, reject) => {
    generateKeyPairCb(type as 'ec', opts as { namedCurve: string }, (err, publicKey, privateKey) =>
      err ? reject(err) : resolve({ publicKey, privateKey }),
    );
  });
}

/** A new key that signs nothing here (a leaf's): what a certificate and a key file need, no KeyObject. */
export interface GeneratedKey {
  spki: Buffer;
  /** Traditional PEM as encodePrivateKeyPem writes it (PKCS#1, SEC1; PKCS#8 for Ed25519). */
  privateKeyPem: string;
}

// Encoded by the keygen job itself: no KeyObject of the job is ever exported, so none of the Node 20
// deadlock above, and none of generateKeyPair's re-import (~200 µs a P-256 key; bench/).
function keygenEncodings(spec: KeySpec): object {
  const type = spec.algo === 'rsa' ? 'pkcs1' : spec.algo === 'ecdsa' ? 'sec1' : 'pkcs8';
  return { publicKeyEncoding: { format: 'jwk' }, privateKeyEncoding: { type, format: 'pem' } };
}

type EncodedKeygen = (type: string, options: object) => { publicKey: JsonWebKey; privateKey: string };
type EncodedKeygenCb = (type: string, options: object, cb: (err: Error | null, publicKey: JsonWebKey, privateKey: string) => void) => void;

/**
 * A curve's SEC1 and SPKI encodings with the scalar and the point left zero, and where those go: only
 * they change from key to key, so a key's encodings are two copies of these and three more copies
 * (~0.45 µs a P-256 key, against ~3.6 µs to encode it element by element).
 */
interface EcTemplate {
  ecdh: ECDH;
  bytes: number;
  sec1: Buffer;
  spki: Buffer;
  sec1ScalarAt: number;
  sec1PointAt: number;
  spkiPointAt: number;
}
const ecTemplates = new Map<number, EcTemplate>();

function ecTemplate(size: number): EcTemplate {
  const cached = ecTemplates.get(size);
  if (cached) return cached;
  const curve = EC[size];
  if (!curve) throw new TypeError(`generateKey: ECDSA size ${size} is not a supported curve`);
  const point = Buffer.alloc(1 + 2 * curve.bytes);
  const curveOid = oid(curve.oid);
  // ECPrivateKey { version 1, privateKey OCTET STRING, [0] parameters, [1] publicKey BIT STRING } (RFC 5915).
  const sec1 = sequence(smallInteger(1), octetString(Buffer.alloc(curve.bytes)), explicit(0, curveOid), explicit(1, bitString(point)));
  const spki = sequence(sequence(oid(EC_PUBLIC_KEY_OID), curveOid), bitString(point));
  // The offsets are read back from the encodings, not counted by hand; +1 skips a BIT STRING's unused-bits byte.
  const [, scalar, , publicKey] = children(sec1, readElement(sec1, 0)) as [Element, Element, Element, Element];
  const [, spkiBits] = children(spki, readElement(spki, 0)) as [Element, Element];
  const t: EcTemplate = {
    // One ECDH object per curve, reused: creating one costs another ~20 µs.
    ecdh: createECDH(curve.openssl),
    bytes: curve.bytes,
    sec1,
    spki,
    sec1ScalarAt: scalar.contentStart,
    sec1PointAt: readElement(sec1, publicKey.contentStart).contentStart + 1,
    spkiPointAt: spkiBits.contentStart + 1,
  };
  ecTemplates.set(size, t);
  return t;
}

/**
 * An EC key from node:crypto's ECDH, encoded here as SPKI and SEC1 (RFC 5915), byte for byte what
 * OpenSSL writes (test/unit/pki-keys-encoding.test.ts). ECDH's generateKeys is EC_KEY_generate_key,
 * the very function OpenSSL 3's EC keygen provider calls, without the EVP/provider layers around it:
 * a P-256 key costs ~20 µs against ~65 µs for a bare generateKeyPairSync and ~125 µs with the job
 * encoding it (JWK for both halves instead of SEC1 PEM saves only ~10 µs of that). No KeyObject and no
 * keygen job, so no Node 20 deadlock.
 */
function generateEcKey(size: number): GeneratedKey {
  const t = ecTemplate(size);
  const point = t.ecdh.generateKeys();
  // getPrivateKey drops leading zero bytes; SEC1 wants the scalar at the curve's full length, and the
  // template's zeros are that padding.
  const d = t.ecdh.getPrivateKey();
  if (d.length > t.bytes || point.length !== t.spki.length - t.spkiPointAt) throw new Error(`generateKey: unexpected ECDH output for P-${size}`);
  // TypedArray#set rather than Buffer#copy, which validates its four arguments in JS first.
  const sec1 = Buffer.allocUnsafe(t.sec1.length);
  sec1.set(t.sec1);
  sec1.set(d, t.sec1ScalarAt + t.bytes - d.length);
  sec1.set(point, t.sec1PointAt);
  const spki = Buffer.allocUnsafe(t.spki.length);
  spki.set(t.spki);
  spki.set(point, t.spkiPointAt);
  return { spki, privateKeyPem: toPem('EC PRIVATE KEY', sec1) };
}

/** Generate a leaf key on the calling thread, already encoded. */
export function generateKey(spec: KeySpec): GeneratedKey {
  if (spec.algo === 'ecdsa') return generateEcKey(spec.size);
  const [type, opts] = keygenArgs(spec);
  // @types/node lacks the 'jwk' keygen encoding that Node 20 supports.
  const { publicKey, privateKey } = (generateKeyPairSync as unknown as EncodedKeygen)(type, { ...opts, ...keygenEncodings(spec) });
  return { spki: spkiFromJwk(publicKey), privateKeyPem: privateKey };
}

/**
 * Generate a leaf key, already encoded; RSA, P-384, P-521 and Ed25519 on libuv's thread pool, so many
 * keys at once use every core. A P-256 key is made on the calling thread: at ~20 µs it costs less
 * than the trip to the pool and back (~100 µs awaited, ~60 µs a key when many are in flight).
 */
export function generateKeyAsync(spec: KeySpec): Promise<GeneratedKey> {
  if (spec.algo === 'ecdsa' && spec.size === 256) {
    try {
      return Promise.resolve(generateEcKey(256));
    } catch (e) {
      return Promise.reject(e);
    }
  }
  const [type, opts] = keygenArgs(spec);
  return new Promise((resolve, reject) =>
    (generateKeyPairCb as unknown as EncodedKeygenCb)(type, { ...opts, ...keygenEncodings(spec) }, (err, publicKey, privateKey) =>
      err ? reject(err) : resolve({ spki: spkiFromJwk(publicKey), privateKeyPem: privateKey }),
    ),
  );
}

/** The key spec of an existing key. */
export function keySpecOf(key: KeyObject): KeySpec {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (type === 'rsa') return { algo: 'rsa', size: details.modulusLength ?? 0 };
  if (type === 'ec') return { algo: 'ecdsa', size: ecSizeOf((c) => c.openssl, details.namedCurve) ?? 0 };
  if (type === 'ed25519') return { algo: 'ed25519', size: 0 };
  throw fail('BAD_KEY', `unsupported key type ${type ?? 'unknown'} (etcd-tls handles RSA, ECDSA and Ed25519)`);
}

export type PrivateKeyFormat = 'traditional' | 'pkcs8';

/**
 * PEM for a private key. 'traditional' is what cfssl writes and what etcd's Go TLS stack reads
 * everywhere: `RSA PRIVATE KEY` (PKCS#1) and `EC PRIVATE KEY` (SEC1). Ed25519 has no traditional form,
 * so it is always PKCS#8 (`PRIVATE KEY`), which Go also reads.
 */
export function encodePrivateKeyPem(key: KeyObject, format: PrivateKeyFormat = 'traditional'): string {
  const type = key.asymmetricKeyType;
  if (format === 'pkcs8' || type === 'ed25519') return key.export({ format: 'pem', type: 'pkcs8' }) as string;
  if (type === 'rsa') return key.export({ format: 'pem', type: 'pkcs1' }) as string;
  if (type === 'ec') return key.export({ format: 'pem', type: 'sec1' }) as string;
  throw fail('BAD_KEY', `cannot encode a ${type ?? 'unknown'} key`);
}

const b64u = (s: string | undefined): Buffer => Buffer.from(s ?? '', 'base64url');

/**
 * SubjectPublicKeyInfo DER of a public (or private) key. Built from the JWK form because OpenSSL 3's
 * encoder behind `export({type:'spki'})` costs ~180 µs, more than generating a P-256 key (~100 µs);
 * the JWK export costs ~9 µs. test/unit/pki-keys.test.ts checks it byte for byte against export().
 */
export function spkiDer(key: KeyObject): Buffer {
  return spkiFromJwk(key.export({ format: 'jwk' }), key.asymmetricKeyType);
}

/** SubjectPublicKeyInfo DER from a public JWK (EC P-256/384/521, Ed25519, RSA). */
export function spkiFromJwk(jwk: JsonWebKey, typeForErrors?: string): Buffer {
  if (jwk.kty === 'EC') {
    const curve = EC[ecSizeOf((c) => c.jose, jwk.crv) ?? 0]?.oid;
    if (!curve) throw fail('BAD_KEY', `unsupported EC curve ${jwk.crv ?? 'unknown'}`);
    const point = Buffer.concat([Buffer.from([0x04]), b64u(jwk.x), b64u(jwk.y)]);
    return sequence(sequence(oid(EC_PUBLIC_KEY_OID), oid(curve)), bitString(point));
  }
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return sequence(sequence(oid(ED25519_OID)), bitString(b64u(jwk.x)));
  if (jwk.kty === 'RSA') {
    const rsaPublicKey = sequence(unsignedInteger(b64u(jwk.n)), unsignedInteger(b64u(jwk.e)));
    return sequence(sequence(oid('1.2.840.113549.1.1.1'), nullValue()), bitString(rsaPublicKey));
  }
  throw fail('BAD_KEY', `unsupported key type ${typeForErrors ?? jwk.kty ?? 'unknown'}`);
}

/**
 * A public KeyObject from SubjectPublicKeyInfo DER. An uncompressed EC point goes in as a JWK: OpenSSL
 * 3's DER decoder costs ~2x the JWK import (measured ~450 vs ~200 µs for P-256), and a signing server
 * pays it for every CSR it verifies. Anything else takes the DER path.
 */
export function publicKeyFromSpki(spki: Buffer): KeyObject {
  try {
    const [alg, bits] = children(spki, readElement(spki, 0));
    const [algOid, params] = alg ? children(spki, alg) : [];
    if (algOid && params?.tag === TAG.OID && bits?.tag === TAG.BIT_STRING && decodeOid(content(spki, algOid)) === EC_PUBLIC_KEY_OID) {
      const curve = EC[ecSizeOfOid(decodeOid(content(spki, params))) ?? 0];
      const point = content(spki, bits).subarray(1);
      if (curve && point.length === 1 + 2 * curve.bytes && point[0] === 0x04) {
        const coord = (from: number): string => point.subarray(from, from + curve.bytes).toString('base64url');
        return createPublicKey({ key: { kty: 'EC', crv: curve.jose, x: coord(1), y: coord(1 + curve.bytes) }, format: 'jwk' });
      }
    }
  } catch {
    // Not the shape the fast path reads: the DER decoder below gives the real error.
  }
  return createPublicKey({ key: spki, format: 'der', type: 'spki' });
}

/** Parse a PEM private key (PKCS#1, SEC1 or PKCS#8, unencrypted). `source` names the file for errors. */
export function parsePrivateKeyPem(pem: string, source: string): KeyObject {
  if (!/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(pem)) {
    const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem)?.[1];
    throw fail('BAD_PEM', `${source}: expected a PEM private key${label ? `, found "${label}"` : ', found no PEM block'}`);
  }
  if (/ENCRYPTED PRIVATE KEY|Proc-Type: 4,ENCRYPTED/.test(pem))
    throw fail('BAD_KEY', `${source}: the private key is encrypted; etcd needs unencrypted keys (decrypt it with openssl pkey)`);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (e) {
    throw fail('BAD_KEY', `${source}: the private key cannot be parsed (${(e as Error).message})`, e);
  }
  const type = key.asymmetricKeyType;
  // keySpecOf reports other EC curves (secp256k1...) as size 0; they would only fail later, unnamed.
  if (type !== 'rsa' && type !== 'ed25519' && !(type === 'ec' && keySpecOf(key).size !== 0)) {
    const what = type === 'ec' ? `EC curve ${key.asymmetricKeyDetails?.namedCurve ?? 'unknown'}` : `key type ${type ?? 'unknown'}`;
    throw fail('BAD_KEY', `${source}: unsupported ${what} (etcd-tls handles RSA, ECDSA P-256/P-384/P-521 and Ed25519)`);
  }
  return key;
}

/** Whether a PEM private key is encrypted (PKCS#8 "ENCRYPTED PRIVATE KEY" or legacy OpenSSL "Proc-Type: 4,ENCRYPTED"). */
export const isEncryptedKeyPem = (pem: string): boolean => /ENCRYPTED PRIVATE KEY|Proc-Type: 4,ENCRYPTED/.test(pem);

/**
 * Decrypt an encrypted PEM private key. A wrong passphrase is CA_PASSPHRASE_WRONG (OpenSSL cannot
 * tell a wrong passphrase from a damaged file, so the message says both).
 */
export function decryptPrivateKeyPem(pem: string, passphrase: string, source: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem', passphrase });
  } catch (e) {
    throw fail('CA_PASSPHRASE_WRONG', `${source}: the passphrase does not decrypt this key (wrong passphrase, or the file is damaged)`, e);
  }
  // Re-encoded unencrypted, so every other check on the key is the one parsePrivateKeyPem makes.
  return parsePrivateKeyPem(key.export({ format: 'pem', type: 'pkcs8' }) as string, source);
}

/** Encrypted PKCS#8 PEM: PBKDF2 (HMAC-SHA256) + AES-256-CBC, which OpenSSL 1.1 and 3 read. */
export function encryptPrivateKeyPem(key: KeyObject, passphrase: string): string {
  if (passphrase.length === 0) throw new TypeError('encryptPrivateKeyPem: empty passphrase');
  return key.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase }) as string;
}

/** Whether a private key belongs to a public key (compares SubjectPublicKeyInfo bytes). */
export function keyMatchesPublicKey(privateKey: KeyObject, spki: Uint8Array): boolean {
  return spkiDer(privateKey).equals(Buffer.from(spki));
}

const RSA_ENCRYPTION_OID = '1.2.840.113549.1.1.1';

/** Thrown inside the key walker: not a shape it reads, so OpenSSL decides (never reported as such). */
class NotFastPath extends Error {}
const need: (ok: unknown) => asserts ok = (ok) => {
  if (!ok) throw new NotFastPath();
};

/** The content of a positive, minimally encoded INTEGER element (OpenSSL normalizes anything else). */
function positiveInteger(der: Buffer, e: Element | undefined): Buffer {
  need(e?.tag === TAG.INTEGER && e.end > e.contentStart);
  const first = der[e.contentStart] as number;
  need(!(first & 0x80) && !(first === 0 && (e.end - e.contentStart === 1 || !((der[e.contentStart + 1] as number) & 0x80))));
  return der.subarray(e.contentStart, e.end);
}
const bigOf = (b: Buffer): bigint => BigInt(`0x${b.toString('hex')}`);
const isSmallInteger = (der: Buffer, e: Element | undefined, n: number): boolean => e?.tag === TAG.INTEGER && e.end - e.contentStart === 1 && der[e.contentStart] === n;

const damaged = (source: string, why: string): Error =>
  fail('BAD_KEY', `${source}: the private key is damaged: ${why} (etcd, like every Go program, refuses or misreads it)`);

/**
 * The SPKI an RSAPrivateKey (PKCS#1, two primes) makes, after the consistency checks Go's
 * rsa.PrivateKey.Validate makes when etcd loads it: e ≥ 2, n = p·q, d·e ≡ 1 mod p−1 and mod q−1.
 * OpenSSL's import checks none of this; BigInt does it in microseconds.
 */
function rsaSpki(der: Buffer, source: string): Buffer {
  const top = readElement(der, 0);
  need(top.tag === TAG.SEQUENCE && top.end === der.length);
  const f = children(der, top);
  need(f.length === 9 && isSmallInteger(der, f[0], 0));
  const [n, e, d, p, q] = f.slice(1, 6).map((x) => positiveInteger(der, x)) as [Buffer, Buffer, Buffer, Buffer, Buffer];
  for (const x of f.slice(6)) positiveInteger(der, x);
  const [N, E, D, P, Q] = [n, e, d, p, q].map(bigOf) as [bigint, bigint, bigint, bigint, bigint];
  if (E < 2n || E >= 1n << 31n) throw damaged(source, 'its public exponent is out of range');
  if (P <= 1n || Q <= 1n || P * Q !== N) throw damaged(source, 'its modulus is not the product of its primes');
  if ((D * E) % (P - 1n) !== 1n || (D * E) % (Q - 1n) !== 1n) throw damaged(source, 'its private exponent does not invert its public one');
  return sequence(sequence(oid(RSA_ENCRYPTION_OID), nullValue()), bitString(sequence(unsignedInteger(n), unsignedInteger(e))));
}

/**
 * The SPKI an ECPrivateKey (RFC 5915) makes: the public point computed from the scalar with ECDH
 * (EC_POINT_mul, as Go's ParseECPrivateKey does; ~30 µs), which also refuses a scalar of 0 or ≥ the
 * order. A stored public point that differs is damage: Go uses the computed point and OpenSSL the
 * stored one, so the two would disagree about the key.
 */
function ecSpki(der: Buffer, outerCurve: string | undefined, source: string): Buffer {
  const top = readElement(der, 0);
  need(top.tag === TAG.SEQUENCE && top.end === der.length);
  const [version, scalar, ...rest] = children(der, top);
  need(isSmallInteger(der, version, 1) && scalar?.tag === TAG.OCTET_STRING && rest.length <= 2);
  let curveOid = outerCurve;
  let stored: Buffer | undefined;
  let i = 0;
  if (rest[i]?.tag === 0xa0) {
    const params = rest[i++] as Element;
    const named = readElement(der, params.contentStart, params.end);
    need(named.tag === TAG.OID && named.end === params.end);
    const inner = decodeOid(der.subarray(named.contentStart, named.end));
    need(curveOid === undefined || curveOid === inner);
    curveOid = inner;
  }
  if (rest[i]?.tag === 0xa1) {
    const pub = rest[i++] as Element;
    const bits = readElement(der, pub.contentStart, pub.end);
    need(bits.tag === TAG.BIT_STRING && bits.end === pub.end && der[bits.contentStart] === 0);
    stored = der.subarray(bits.contentStart + 1, bits.end);
  }
  need(i === rest.length && curveOid !== undefined);
  const size = ecSizeOfOid(curveOid);
  need(size !== undefined);
  const t = ecTemplate(size);
  // Go accepts a scalar shorter than the curve (leading zeros dropped), never a longer one.
  need(scalar.end - scalar.contentStart <= t.bytes);
  try {
    t.ecdh.setPrivateKey(der.subarray(scalar.contentStart, scalar.end));
  } catch {
    throw new NotFastPath(); // 0 or not below the order: OpenSSL's own words for it
  }
  const point = t.ecdh.getPublicKey();
  // A compressed or hybrid stored point is legal but rare: OpenSSL compares it.
  if (stored && stored[0] !== 0x04) throw new NotFastPath();
  if (stored && !stored.equals(point)) throw damaged(source, 'the public key stored in it is not the one its private scalar makes');
  const spki = Buffer.allocUnsafe(t.spki.length);
  spki.set(t.spki);
  spki.set(point, t.spkiPointAt);
  return spki;
}

/** The SPKI of a PKCS#1, SEC1 or PKCS#8 (RSA, EC) key's DER; NotFastPath for anything else. */
function spkiOfKeyDer(label: string, der: Buffer, source: string): Buffer {
  if (label === 'EC PRIVATE KEY') return ecSpki(der, undefined, source);
  if (label === 'RSA PRIVATE KEY') return rsaSpki(der, source);
  need(label === 'PRIVATE KEY');
  // PrivateKeyInfo { version 0, AlgorithmIdentifier, privateKey OCTET STRING } with no attributes.
  const top = readElement(der, 0);
  need(top.tag === TAG.SEQUENCE && top.end === der.length);
  const [version, algorithm, inner, ...rest] = children(der, top);
  need(isSmallInteger(der, version, 0) && algorithm?.tag === TAG.SEQUENCE && inner?.tag === TAG.OCTET_STRING && rest.length === 0);
  const [algOid, params, ...more] = children(der, algorithm);
  need(algOid?.tag === TAG.OID && more.length === 0);
  const alg = decodeOid(der.subarray(algOid.contentStart, algOid.end));
  const key = der.subarray(inner.contentStart, inner.end);
  if (alg === EC_PUBLIC_KEY_OID) {
    need(params?.tag === TAG.OID);
    return ecSpki(key, decodeOid(der.subarray(params.contentStart, params.end)), source);
  }
  need(alg === RSA_ENCRYPTION_OID && params?.tag === TAG.NULL && params.end === params.contentStart);
  return rsaSpki(key, source);
}

/**
 * The SubjectPublicKeyInfo (DER) of the public key a PEM private key makes: what "this key belongs to
 * that certificate" compares. RSA and EC keys in PKCS#1, SEC1 and PKCS#8 are read with the DER walker
 * (~30 µs for EC, a few µs for RSA) instead of OpenSSL's decoder (~0.4 ms a key, plus ~0.2 ms to export
 * its public half): a 300-member check reads 900 keys. Anything the walker does not read exactly (Ed25519,
 * several blocks, attributes, odd encodings, a scalar ECDH refuses) goes through parsePrivateKeyPem, so
 * errors and verdicts stay OpenSSL's there. Damage that OpenSSL's import lets through and Go refuses
 * is BAD_KEY (see ecSpki, rsaSpki). Errors name `source`.
 */
export function publicKeyOfPrivateKeyPem(pem: string, source: string): Buffer {
  if (!isEncryptedKeyPem(pem)) {
    let blocks: PemBlock[] = [];
    try {
      blocks = parsePemBlocks(pem);
    } catch {
      // Not base64: parsePrivateKeyPem reports it.
    }
    const [block] = blocks;
    if (block && blocks.length === 1) {
      try {
        return spkiOfKeyDer(block.label, block.der, source);
      } catch (e) {
        if (!(e instanceof NotFastPath || e instanceof DerError || e instanceof RangeError)) throw e;
      }
    }
  }
  return spkiDer(parsePrivateKeyPem(pem, source));
}

/**
 * Whether the PEM private key `keyPem` belongs to the public key in `spki` (publicKeyOfPrivateKeyPem
 * compared byte for byte). Errors: those of parsePrivateKeyPem, and BAD_KEY for a damaged key, naming `source`.
 */
export function privateKeyPemMatches(keyPem: string, spki: Uint8Array, source: string): boolean {
  return publicKeyOfPrivateKeyPem(keyPem, source).equals(spki);
}

/** How a key signs: the digest for node:crypto.sign and the AlgorithmIdentifier DER for X.509/PKCS#10. */
export interface SignatureAlgorithm {
  /** null for Ed25519, which hashes internally. */
  digest: 'sha256' | 'sha384' | 'sha512' | null;
  algorithmIdentifier: Buffer;
  name: string;
}

const RSA_SIG: Record<string, string> = {
  sha256: '1.2.840.113549.1.1.11',
  sha384: '1.2.840.113549.1.1.12',
  sha512: '1.2.840.113549.1.1.13',
};
const ECDSA_SIG: Record<string, string> = {
  sha256: '1.2.840.10045.4.3.2',
  sha384: '1.2.840.10045.4.3.3',
  sha512: '1.2.840.10045.4.3.4',
};
const ED25519_OID = '1.3.101.112';

const sigCache = new Map<string, SignatureAlgorithm>();
// Per key too: keySpecOf asks OpenSSL for the key's details (a new object each time) on every certificate.
const sigByKey = new WeakMap<KeyObject, SignatureAlgorithm>();

/** cfssl's rule: the hash follows the signing key (RSA ≥4096 → SHA-512, ≥3072 → SHA-384; P-384 → SHA-384 ...). */
export function signatureAlgorithmFor(key: KeyObject): SignatureAlgorithm {
  const known = sigByKey.get(key);
  if (known) return known;
  const alg = signatureAlgorithmOf(keySpecOf(key));
  sigByKey.set(key, alg);
  return alg;
}

function signatureAlgorithmOf(spec: KeySpec): SignatureAlgorithm {
  const cacheKey = describeKeySpec(spec);
  const cached = sigCache.get(cacheKey);
  if (cached) return cached;
  let alg: SignatureAlgorithm;
  if (spec.algo === 'ed25519') {
    alg = { digest: null, algorithmIdentifier: sequence(oid(ED25519_OID)), name: 'Ed25519' };
  } else if (spec.algo === 'rsa') {
    const digest = spec.size >= 4096 ? 'sha512' : spec.size >= 3072 ? 'sha384' : 'sha256';
    // RSA AlgorithmIdentifiers carry an explicit NULL parameter (RFC 4055).
    alg = { digest, algorithmIdentifier: sequence(oid(RSA_SIG[digest] as string), nullValue()), name: `${digest.toUpperCase()}WithRSA` };
  } else {
    const digest = spec.size === 521 ? 'sha512' : spec.size === 384 ? 'sha384' : 'sha256';
    alg = { digest, algorithmIdentifier: sequence(oid(ECDSA_SIG[digest] as string)), name: `ECDSAWith${digest.toUpperCase()}` };
  }
  sigCache.set(cacheKey, alg);
  return alg;
}
