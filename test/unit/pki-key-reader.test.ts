// publicKeyOfPrivateKeyPem: RSA and EC keys read with the DER walker instead of OpenSSL's decoder.
// Every verdict is held against OpenSSL's (createPrivateKey + its public key): the same public key for
// every form, the same refusal for what cannot be read, and a damaged key that OpenSSL's import lets
// through (and Go refuses, or reads differently) reported as damaged.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { children, readElement } from '../../src/pki/der.js';
import { encodePrivateKeyPem, generateKeyPair, parsePrivateKeyPem, privateKeyPemMatches, publicKeyOfPrivateKeyPem, spkiDer } from '../../src/pki/keys.js';
import { parsePemBlocks, toPem } from '../../src/pki/pem.js';
import { rejects } from '../helpers/assertions.js';
import { GENERATED_KEY_SPECS } from '../helpers/key-specs.js';

const keys = GENERATED_KEY_SPECS.map((spec) => ({ spec, ...generateKeyPair(spec) }));
const p256 = keys[0] as { privateKey: KeyObject; publicKey: KeyObject };
const rsa = keys[3] as { privateKey: KeyObject; publicKey: KeyObject };

/** What OpenSSL says the key's public key is. */
const opensslSpki = (pem: string): Buffer => spkiDer(createPrivateKey({ key: pem, format: 'pem' }));
const derOf = (pem: string): Buffer => (parsePemBlocks(pem)[0] as { der: Buffer }).der;
const labelOf = (pem: string): string => (parsePemBlocks(pem)[0] as { label: string }).label;

/** A copy of `der` with the content byte at `offset` changed. */
function flipped(der: Buffer, offset: number): Buffer {
  const copy = Buffer.from(der);
  copy[offset] = (copy[offset] as number) ^ 0x01;
  return copy;
}

/** Offsets of a SEC1 key's scalar and stored public point (RFC 5915 order). */
function sec1Parts(der: Buffer): { scalarAt: number; pointAt: number } {
  const [, scalar, , pub] = children(der, readElement(der, 0));
  assert.ok(scalar && pub, 'a SEC1 key with a stored public key');
  const bits = readElement(der, pub.contentStart, pub.end);
  return { scalarAt: scalar.contentStart, pointAt: bits.contentStart + 1 };
}

describe('publicKeyOfPrivateKeyPem agrees with OpenSSL', () => {
  test('every algorithm, traditional and PKCS#8, byte for byte', () => {
    for (const k of keys) {
      for (const format of ['traditional', 'pkcs8'] as const) {
        const pem = encodePrivateKeyPem(k.privateKey, format);
        assert.deepEqual(publicKeyOfPrivateKeyPem(pem, 'k.pem'), opensslSpki(pem), `${k.spec.algo}-${k.spec.size} ${format} (${labelOf(pem)})`);
        assert.deepEqual(publicKeyOfPrivateKeyPem(pem, 'k.pem'), spkiDer(k.publicKey));
      }
    }
  });

  test('keys straight from OpenSSL 3 (PEM written by its encoder), SEC1 without the optional public key too', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'sec1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'der' } });
    assert.deepEqual(publicKeyOfPrivateKeyPem(privateKey, 'k.pem'), opensslSpki(privateKey));
    // ECPrivateKey { version, privateKey, [0] curve } without [1] publicKey: the point comes from the scalar alone.
    const der = derOf(privateKey);
    const [version, , params] = children(der, readElement(der, 0));
    assert.ok(version && params);
    const body = der.subarray(version.start, params.end);
    const short = toPem('EC PRIVATE KEY', Buffer.concat([Buffer.from([0x30, body.length]), body]));
    assert.deepEqual(publicKeyOfPrivateKeyPem(short, 'k.pem'), opensslSpki(short));
  });

  test('a key of another certificate is still told apart', () => {
    for (const format of ['traditional', 'pkcs8'] as const) {
      const other = generateKeyPair({ algo: 'ecdsa', size: 256 });
      assert.equal(privateKeyPemMatches(encodePrivateKeyPem(other.privateKey, format), spkiDer(p256.publicKey), 'k.pem'), false);
      assert.equal(privateKeyPemMatches(encodePrivateKeyPem(rsa.privateKey, format), spkiDer(p256.publicKey), 'k.pem'), false);
      assert.equal(privateKeyPemMatches(encodePrivateKeyPem(rsa.privateKey, format), spkiDer(rsa.publicKey), 'k.pem'), true);
    }
  });
});

describe('publicKeyOfPrivateKeyPem refuses what OpenSSL refuses, in its words', () => {
  test('a key cut short, in every form, fails as parsePrivateKeyPem does', () => {
    for (const k of [p256, rsa]) {
      for (const format of ['traditional', 'pkcs8'] as const) {
        const pem = encodePrivateKeyPem(k.privateKey, format);
        const cut = toPem(labelOf(pem), derOf(pem).subarray(0, 60));
        rejects(() => parsePrivateKeyPem(cut, 'k.pem'), 'BAD_KEY', /^k\.pem: the private key cannot be parsed/);
        rejects(() => publicKeyOfPrivateKeyPem(cut, 'k.pem'), 'BAD_KEY', /^k\.pem: the private key cannot be parsed/);
      }
    }
  });

  test('not a key, an encrypted key, another curve', () => {
    rejects(() => publicKeyOfPrivateKeyPem('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', 'k.pem'), 'BAD_PEM', 'k.pem: expected a PEM private key, found "CERTIFICATE"');
    const encrypted = p256.privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'x' }) as string;
    rejects(() => publicKeyOfPrivateKeyPem(encrypted, 'k.pem'), 'BAD_KEY', /encrypted/);
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey.export({ format: 'pem', type: 'sec1' }) as string;
    rejects(() => publicKeyOfPrivateKeyPem(k1, 'k.pem'), 'BAD_KEY', /unsupported EC curve secp256k1/);
  });
});

describe('publicKeyOfPrivateKeyPem finds damage OpenSSL lets through', () => {
  test("an EC key storing another key's public point: OpenSSL imports it, the walker reports it", () => {
    const other = spkiDer(generateKeyPair({ algo: 'ecdsa', size: 256 }).publicKey).subarray(-65);
    for (const format of ['traditional', 'pkcs8'] as const) {
      const pem = encodePrivateKeyPem(p256.privateKey, format);
      const der = Buffer.from(derOf(pem));
      // In PKCS#8 the ECPrivateKey sits inside an OCTET STRING: find the stored point by its bytes.
      const at = der.indexOf(spkiDer(p256.publicKey).subarray(-65));
      assert.ok(at > 0, 'the stored point is in the key');
      other.copy(der, at);
      const bad = toPem(labelOf(pem), der);
      // OpenSSL 3 takes the stored point as it is, so its public key is the other key's...
      assert.deepEqual(opensslSpki(bad).subarray(-65), other);
      // ...while Go derives it from the scalar: the two disagree, so the file is reported as damaged.
      rejects(() => publicKeyOfPrivateKeyPem(bad, 'k.pem'), 'BAD_KEY', /^k\.pem: the private key is damaged: the public key stored in it is not the one its private scalar makes/);
    }
  });

  test('an EC key whose stored point is off the curve: refused by both', () => {
    const pem = encodePrivateKeyPem(p256.privateKey);
    const { pointAt } = sec1Parts(derOf(pem));
    const bad = toPem('EC PRIVATE KEY', flipped(derOf(pem), pointAt + 40));
    assert.throws(() => createPrivateKey({ key: bad, format: 'pem' }));
    rejects(() => publicKeyOfPrivateKeyPem(bad, 'k.pem'), 'BAD_KEY', /damaged: the public key stored in it/);
  });

  test('an EC key whose scalar was altered (the stored point kept) is damaged too', () => {
    const pem = encodePrivateKeyPem(p256.privateKey);
    const { scalarAt } = sec1Parts(derOf(pem));
    const bad = toPem('EC PRIVATE KEY', flipped(derOf(pem), scalarAt + 5));
    rejects(() => publicKeyOfPrivateKeyPem(bad, 'k.pem'), 'BAD_KEY', /damaged: the public key stored in it is not the one its private scalar makes/);
  });

  test("an RSA key whose modulus or private exponent was altered fails Go's key validation", () => {
    for (const format of ['traditional', 'pkcs8'] as const) {
      const pem = encodePrivateKeyPem(rsa.privateKey, format);
      const der = derOf(pem);
      // RSAPrivateKey { version, n, e, d, p, q, ... }: n and d are found by their bytes.
      const jwk = rsa.privateKey.export({ format: 'jwk' });
      const n = Buffer.from(jwk.n as string, 'base64url');
      const d = Buffer.from(jwk.d as string, 'base64url');
      const badN = toPem(labelOf(pem), flipped(der, der.indexOf(n) + 100));
      const badD = toPem(labelOf(pem), flipped(der, der.indexOf(d) + 100));
      // OpenSSL imports both without a word.
      assert.doesNotThrow(() => createPrivateKey({ key: badN, format: 'pem' }));
      assert.doesNotThrow(() => createPrivateKey({ key: badD, format: 'pem' }));
      rejects(() => publicKeyOfPrivateKeyPem(badN, 'k.pem'), 'BAD_KEY', /^k\.pem: the private key is damaged: its modulus is not the product of its primes/);
      rejects(() => publicKeyOfPrivateKeyPem(badD, 'k.pem'), 'BAD_KEY', /^k\.pem: the private key is damaged: its private exponent does not invert its public one/);
    }
  });
});
