// generateKey's hand-built EC encodings (SEC1 private key, SubjectPublicKeyInfo) against OpenSSL's own
// encoders, byte for byte, over many keys: the scalar d and the point coordinates are fixed-length fields
// whose leading zero bytes an encoder can drop. `openssl ec -check` is the independent verifier.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { children, readElement, TAG } from '../../src/pki/der.js';
import { toPem } from '../../src/pki/pem.js';
import { generateKey, generateKeyAsync, type GeneratedKey } from '../../src/pki/keys.js';
import { requireBinary, run } from '../helpers/components.js';

const CURVES = [
  { size: 256, bytes: 32, keys: 300 },
  // P-384 and P-521 keys cost 1-3 ms each; P-521's d has a zero top byte in half of them anyway.
  { size: 384, bytes: 48, keys: 40 },
  { size: 521, bytes: 66, keys: 40 },
];

/** The privateKey OCTET STRING of a SEC1 DER, read with our own walker (not the encoder under test). */
function scalarOf(key: GeneratedKey): Buffer {
  const der = createPrivateKey(key.privateKeyPem).export({ type: 'sec1', format: 'der' });
  const [, d] = children(der, readElement(der, 0));
  assert.equal(d?.tag, TAG.OCTET_STRING);
  return der.subarray(d.contentStart, d.end);
}

/** What OpenSSL writes for the same key: the traditional PEM and the SPKI DER. */
function openSslEncodings(pem: string): { pem: string; spki: Buffer } {
  const key = createPrivateKey(pem);
  return {
    pem: key.export({ type: 'sec1', format: 'pem' }) as string,
    spki: createPublicKey(key).export({ type: 'spki', format: 'der' }),
  };
}

function assertSameAsOpenSsl(key: GeneratedKey, what: string): void {
  const want = openSslEncodings(key.privateKeyPem);
  assert.equal(key.privateKeyPem, want.pem, `${what}: SEC1 PEM`);
  assert.equal(key.spki.toString('hex'), want.spki.toString('hex'), `${what}: SPKI`);
}

describe('generateKey: EC encodings equal OpenSSL byte for byte', () => {
  for (const { size, bytes, keys } of CURVES) {
    test(`P-${size}: ${keys} keys, SEC1 PEM and SPKI as OpenSSL writes them, d always ${bytes} bytes`, () => {
      let shortScalars = 0;
      for (let i = 0; i < keys; i++) {
        const key = generateKey({ algo: 'ecdsa', size });
        assertSameAsOpenSsl(key, `P-${size} key ${i}`);
        const d = scalarOf(key);
        assert.equal(d.length, bytes);
        if (d[0] === 0) shortScalars++;
      }
      // P-521's 521-bit d leaves the top byte zero about half the time: the padding path is exercised.
      if (size === 521) assert.ok(shortScalars > 0, 'no P-521 key with a zero top byte in d');
    });
  }

  test('P-256: keys whose d starts with a zero byte (1 in 256) are padded, not shortened', () => {
    let found = 0;
    for (let i = 0; i < 8000 && found < 3; i++) {
      const key = generateKey({ algo: 'ecdsa', size: 256 });
      if (scalarOf(key)[0] !== 0) continue;
      found++;
      assertSameAsOpenSsl(key, 'P-256 key with a leading zero in d');
    }
    assert.ok(found > 0, 'no P-256 key with a leading zero byte in d in 8000 tries');
  });

  test('P-256: keys whose x coordinate starts with a zero byte keep a 65-byte point', () => {
    let found = 0;
    for (let i = 0; i < 8000 && found < 3; i++) {
      const key = generateKey({ algo: 'ecdsa', size: 256 });
      // SPKI: 26 bytes of header, then 0x04 || x || y.
      if (key.spki[27] !== 0) continue;
      found++;
      assert.equal(key.spki.length, 26 + 65);
      assertSameAsOpenSsl(key, 'P-256 key with a leading zero in x');
    }
    assert.ok(found > 0, 'no P-256 key with a leading zero byte in x in 8000 tries');
  });

  test('generateKeyAsync P-256 gives the same encodings; consecutive keys differ', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const key = await generateKeyAsync({ algo: 'ecdsa', size: 256 });
      assertSameAsOpenSsl(key, `async key ${i}`);
      seen.add(key.privateKeyPem);
    }
    assert.equal(seen.size, 20);
  });

  test('the private key signs and the SPKI verifies', () => {
    for (const size of [256, 384, 521]) {
      const key = generateKey({ algo: 'ecdsa', size });
      const data = Buffer.from('etcd-tls');
      const signature = sign('sha256', data, createPrivateKey(key.privateKeyPem));
      assert.ok(verify('sha256', data, createPublicKey({ key: key.spki, format: 'der', type: 'spki' }), signature), `P-${size}`);
    }
  });

  test('an unsupported ECDSA size is a TypeError', () => {
    assert.throws(() => generateKey({ algo: 'ecdsa', size: 255 }), TypeError);
  });
});

describe('generateKey: openssl checks the EC keys', () => {
  for (const { size } of CURVES) {
    test(`P-${size}: openssl ec -check accepts the key and prints its public key as our SPKI`, async (t) => {
      if (!requireBinary(t, 'openssl')) return;
      for (let i = 0; i < 3; i++) {
        const key = generateKey({ algo: 'ecdsa', size });
        const check = await run('openssl', ['ec', '-check', '-noout'], { stdin: key.privateKeyPem });
        assert.equal(check.code, 0, check.stderr);
        assert.match(check.stderr, /EC Key valid/);
        const pub = await run('openssl', ['ec', '-pubout'], { stdin: key.privateKeyPem });
        assert.equal(pub.code, 0, pub.stderr);
        assert.equal(pub.stdout, toPem('PUBLIC KEY', key.spki));
      }
    });
  }
});
