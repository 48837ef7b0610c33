// Keys: spec validation, generation of every supported type, the hand-built SubjectPublicKeyInfo
// against OpenSSL's encoder, PEM labels, parse errors, and the signature algorithm a key implies.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import {
  describeKeySpec,
  encodePrivateKeyPem,
  generateKeyPair,
  generateKeyPairAsync,
  keyMatchesPublicKey,
  keySpecOf,
  parsePrivateKeyPem,
  privateKeyPemMatches,
  signatureAlgorithmFor,
  spkiDer,
  validateKeySpec,
  type KeyAlgorithm,
  type KeySpec,
} from '../../src/pki/keys.js';
import { toPem } from '../../src/pki/pem.js';
import { run } from '../helpers/components.js';
import { rejects } from '../helpers/assertions.js';
import { GENERATED_KEY_SPECS } from '../helpers/key-specs.js';


// RSA generation is slow: one 2048-bit key for the whole file, made on the thread pool meanwhile.
const rsa2048 = generateKeyPairAsync({ algo: 'rsa', size: 2048 });
const spkiOf = (k: KeyObject): Buffer => k.export({ type: 'spki', format: 'der' });

describe('keys: validateKeySpec', () => {
  const ok: [KeySpec, KeySpec][] = [
    [{ algo: 'rsa', size: 2048 }, { algo: 'rsa', size: 2048 }],
    [{ algo: 'rsa', size: 3072 }, { algo: 'rsa', size: 3072 }],
    [{ algo: 'rsa', size: 8192 }, { algo: 'rsa', size: 8192 }],
    [{ algo: 'ecdsa', size: 256 }, { algo: 'ecdsa', size: 256 }],
    [{ algo: 'ecdsa', size: 384 }, { algo: 'ecdsa', size: 384 }],
    [{ algo: 'ecdsa', size: 521 }, { algo: 'ecdsa', size: 521 }],
    [{ algo: 'ed25519', size: 256 }, { algo: 'ed25519', size: 0 }],
  ];
  for (const [input, want] of ok)
    test(`${input.algo} ${input.size} is accepted as ${describeKeySpec(want)}`, () => assert.deepEqual(validateKeySpec(input, 'csr.json: key'), want));

  const bad: [KeySpec, RegExp][] = [
    [{ algo: 'rsa', size: 1024 }, /^csr\.json: key: RSA key size 1024 is too weak \(minimum 2048/],
    [{ algo: 'rsa', size: 16384 }, /^csr\.json: key: RSA key size 16384 is too large/],
    [{ algo: 'rsa', size: 2049 }, /not a multiple of 8/],
    [{ algo: 'rsa', size: Number.NaN }, /too weak/],
    [{ algo: 'ecdsa', size: 255 }, /^csr\.json: key: ECDSA size 255 is not a supported curve \(use 256, 384 or 521\)/],
    [{ algo: 'ecdsa', size: 0 }, /ECDSA size 0/],
    [{ algo: 'dsa' as KeyAlgorithm, size: 2048 }, /^csr\.json: key: key algorithm "dsa" is not supported \(use rsa, ecdsa or ed25519\)/],
  ];
  for (const [input, message] of bad)
    test(`${input.algo} ${input.size} is BAD_KEY_SPEC`, () => rejects(() => validateKeySpec(input, 'csr.json: key'), 'BAD_KEY_SPEC', message));
});

describe('keys: generation and SubjectPublicKeyInfo', () => {
  const specs: KeySpec[] = [
    { algo: 'ecdsa', size: 256 },
    { algo: 'ecdsa', size: 384 },
    { algo: 'ecdsa', size: 521 },
    { algo: 'ed25519', size: 0 },
  ];
  for (const spec of specs) {
    test(`${describeKeySpec(spec)}: keySpecOf gives the spec back; spkiDer equals OpenSSL's encoding`, () => {
      // Many keys, so coordinates with leading zero bytes (1 in 128 for P-256, most P-521 keys) turn up.
      for (let i = 0; i < 48; i++) {
        const { privateKey, publicKey } = generateKeyPair(spec);
        assert.deepEqual(keySpecOf(privateKey), spec);
        assert.deepEqual(keySpecOf(publicKey), spec);
        assert.equal(spkiDer(privateKey).toString('hex'), spkiOf(publicKey).toString('hex'));
        assert.equal(spkiDer(publicKey).toString('hex'), spkiOf(publicKey).toString('hex'));
      }
    });
  }

  test('an EC point whose x coordinate starts with a zero byte is still full length', () => {
    let found = 0;
    for (let i = 0; i < 4000 && found < 2; i++) {
      const { publicKey } = generateKeyPair({ algo: 'ecdsa', size: 256 });
      const jwk = publicKey.export({ format: 'jwk' });
      if (Buffer.from(jwk.x ?? '', 'base64url')[0] !== 0) continue;
      found++;
      assert.deepEqual(spkiDer(publicKey), spkiOf(publicKey));
    }
    assert.ok(found > 0, 'no P-256 key with a leading zero x byte in 4000 tries');
  });

  test('rsa 2048: generated asynchronously, spkiDer equals OpenSSL (modulus with its sign byte)', async () => {
    const { privateKey, publicKey } = await rsa2048;
    assert.deepEqual(keySpecOf(privateKey), { algo: 'rsa', size: 2048 });
    assert.deepEqual(spkiDer(privateKey), spkiOf(publicKey));
  });

  test('rsa: spkiDer matches OpenSSL for moduli of other sizes and odd exponents', () => {
    // Public keys from a JWK: no prime generation needed, and OpenSSL encodes them all the same.
    for (const bits of [2048, 3072, 4096, 2056]) {
      for (const e of ['AQAB', 'Aw', 'AQAAAQ']) {
        const n = randomBytes(bits / 8);
        n[0] = (n[0] as number) | 0x80;
        const key = createPublicKey({ key: { kty: 'RSA', n: n.toString('base64url'), e }, format: 'jwk' });
        assert.deepEqual(spkiDer(key), spkiOf(key), `${bits} bits, e=${e}`);
      }
    }
  });

  test('regression: generated keys survive a GC during JWK export and key details (Node 20 keygen-job deadlock)', async () => {
    // Node 20's sync keygen job locks its key's mutex when the GC finalizes it; a GC inside spkiDer's JWK
    // export of that key hung the process. A 1 MB young generation makes GCs frequent: the old
    // generateKeyPair hung within 250 keys on every run.
    const keys = new URL('../../src/pki/keys.js', import.meta.url).href;
    const script = `const { generateKeyPair, spkiDer, keySpecOf } = await import(${JSON.stringify(keys)});
for (let i = 0; i < 1000; i++) {
  const { privateKey, publicKey } = generateKeyPair({ algo: 'ecdsa', size: 256 });
  keySpecOf(privateKey); keySpecOf(publicKey);
  for (let j = 0; j < 16; j++) spkiDer(privateKey);
}
console.log('done');`;
    const r = await run(process.execPath, ['--max-semi-space-size=1', '--input-type=module', '-e', script], { timeoutMs: 30_000 });
    assert.equal(r.timedOut, false, 'the child process deadlocked');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'done');
  });

  test('keyMatchesPublicKey tells a key from another of the same type', () => {
    const a = generateKeyPair({ algo: 'ecdsa', size: 256 });
    const b = generateKeyPair({ algo: 'ecdsa', size: 256 });
    assert.equal(keyMatchesPublicKey(a.privateKey, spkiOf(a.publicKey)), true);
    assert.equal(keyMatchesPublicKey(a.privateKey, spkiOf(b.publicKey)), false);
  });
});

const firstLine = (pem: string): string => pem.split('\n')[0] as string;

describe('keys: PEM', () => {
  const ec = generateKeyPair({ algo: 'ecdsa', size: 384 });
  const ed = generateKeyPair({ algo: 'ed25519', size: 0 });

  test('traditional labels: RSA PRIVATE KEY, EC PRIVATE KEY; Ed25519 is always PKCS#8', async () => {
    const rsa = await rsa2048;
    assert.equal(firstLine(encodePrivateKeyPem(rsa.privateKey)), '-----BEGIN RSA PRIVATE KEY-----');
    assert.equal(firstLine(encodePrivateKeyPem(ec.privateKey)), '-----BEGIN EC PRIVATE KEY-----');
    assert.equal(firstLine(encodePrivateKeyPem(ed.privateKey)), '-----BEGIN PRIVATE KEY-----');
    assert.equal(firstLine(encodePrivateKeyPem(ed.privateKey, 'traditional')), '-----BEGIN PRIVATE KEY-----');
  });

  test('pkcs8 gives PRIVATE KEY for every type', async () => {
    const rsa = await rsa2048;
    for (const k of [rsa.privateKey, ec.privateKey, ed.privateKey])
      assert.equal(firstLine(encodePrivateKeyPem(k, 'pkcs8')), '-----BEGIN PRIVATE KEY-----');
  });

  test('every encoding parses back to the same key', async () => {
    const rsa = await rsa2048;
    for (const pair of [rsa, ec, ed]) {
      for (const format of ['traditional', 'pkcs8'] as const) {
        const back = parsePrivateKeyPem(encodePrivateKeyPem(pair.privateKey, format), 'key.pem');
        assert.deepEqual(spkiDer(back), spkiOf(pair.publicKey));
      }
    }
  });

  test('garbage, a certificate and a public key are BAD_PEM naming the file and what was found', () => {
    rejects(() => parsePrivateKeyPem('hello', 'ca-key.pem'), 'BAD_PEM', /^ca-key\.pem: expected a PEM private key, found no PEM block$/);
    rejects(
      () => parsePrivateKeyPem(toPem('CERTIFICATE', Buffer.from([0x30, 0])), 'ca-key.pem'),
      'BAD_PEM',
      /^ca-key\.pem: expected a PEM private key, found "CERTIFICATE"$/,
    );
    rejects(
      () => parsePrivateKeyPem(ec.publicKey.export({ type: 'spki', format: 'pem' }) as string, 'ca-key.pem'),
      'BAD_PEM',
      /found "PUBLIC KEY"/,
    );
  });

  test('a PRIVATE KEY block that is not a key is BAD_KEY', () => {
    rejects(() => parsePrivateKeyPem(toPem('PRIVATE KEY', Buffer.from([0x30, 0])), 'k.pem'), 'BAD_KEY', /^k\.pem: the private key cannot be parsed/);
  });

  test('encrypted keys (PKCS#8 and traditional) are BAD_KEY: etcd needs unencrypted keys', () => {
    const opts = { cipher: 'aes-256-cbc', passphrase: 'secret' } as const;
    const pkcs8 = ec.privateKey.export({ type: 'pkcs8', format: 'pem', ...opts }) as string;
    const sec1 = ec.privateKey.export({ type: 'sec1', format: 'pem', ...opts }) as string;
    assert.match(sec1, /Proc-Type: 4,ENCRYPTED/);
    for (const pem of [pkcs8, sec1])
      rejects(() => parsePrivateKeyPem(pem, 'ca-key.pem'), 'BAD_KEY', /^ca-key\.pem: the private key is encrypted; etcd needs unencrypted keys/);
  });

  test('keys of types etcd-tls does not handle are BAD_KEY naming the file', () => {
    const x25519 = generateKeyPairSync('x25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey.export({ type: 'sec1', format: 'pem' }) as string;
    rejects(() => parsePrivateKeyPem(x25519, 'odd.pem'), 'BAD_KEY', /^odd\.pem: .*x25519/);
    rejects(() => parsePrivateKeyPem(k1, 'odd.pem'), 'BAD_KEY', /^odd\.pem: .*secp256k1/);
  });
});

describe('keys: signatureAlgorithmFor', () => {
  const rsaPublic = (bits: number): KeyObject => {
    const n = randomBytes(bits / 8);
    n[0] = (n[0] as number) | 0x80;
    return createPublicKey({ key: { kty: 'RSA', n: n.toString('base64url'), e: 'AQAB' }, format: 'jwk' });
  };
  const table: [string, () => Promise<KeyObject> | KeyObject, string, string | null, string][] = [
    ['RSA 2048', async () => (await rsa2048).privateKey, 'SHA256WithRSA', 'sha256', '300d06092a864886f70d01010b0500'],
    ['RSA 3072', () => rsaPublic(3072), 'SHA384WithRSA', 'sha384', '300d06092a864886f70d01010c0500'],
    ['RSA 4096', () => rsaPublic(4096), 'SHA512WithRSA', 'sha512', '300d06092a864886f70d01010d0500'],
    ['P-256', () => generateKeyPair({ algo: 'ecdsa', size: 256 }).privateKey, 'ECDSAWithSHA256', 'sha256', '300a06082a8648ce3d040302'],
    ['P-384', () => generateKeyPair({ algo: 'ecdsa', size: 384 }).privateKey, 'ECDSAWithSHA384', 'sha384', '300a06082a8648ce3d040303'],
    ['P-521', () => generateKeyPair({ algo: 'ecdsa', size: 521 }).privateKey, 'ECDSAWithSHA512', 'sha512', '300a06082a8648ce3d040304'],
    ['Ed25519', () => generateKeyPair({ algo: 'ed25519', size: 0 }).privateKey, 'Ed25519', null, '300506032b6570'],
  ];
  for (const [label, key, name, digest, algId] of table) {
    test(`${label} signs with ${name}`, async () => {
      const alg = signatureAlgorithmFor(await key());
      assert.equal(alg.name, name);
      assert.equal(alg.digest, digest);
      assert.equal(alg.algorithmIdentifier.toString('hex'), algId);
    });
  }
});

describe('privateKeyPemMatches (the key check of a gen re-run)', () => {
  const pairs = GENERATED_KEY_SPECS.map((spec) => ({ spec, ...generateKeyPair(spec) }));

  test('agrees with OpenSSL (parsePrivateKeyPem + keyMatchesPublicKey) for every key and form, matching or not', () => {
    for (const a of pairs) {
      for (const format of ['traditional', 'pkcs8'] as const) {
        const pem = encodePrivateKeyPem(a.privateKey, format);
        for (const b of pairs) {
          const spki = spkiDer(b.publicKey);
          const expected = keyMatchesPublicKey(parsePrivateKeyPem(pem, 'k.pem'), spki);
          assert.equal(privateKeyPemMatches(pem, spki, 'k.pem'), expected, `${describeKeySpec(a.spec)} ${format} vs ${describeKeySpec(b.spec)}`);
          assert.equal(expected, a === b);
        }
      }
    }
  });

  test('another key of the same curve does not match', () => {
    const other = generateKeyPair({ algo: 'ecdsa', size: 256 });
    assert.equal(privateKeyPemMatches(encodePrivateKeyPem(other.privateKey), spkiDer((pairs[0] as KeyPairEntry).publicKey), 'k.pem'), false);
  });

  test('a key OpenSSL cannot parse fails as parsePrivateKeyPem does, naming the file', () => {
    const spki = spkiDer((pairs[0] as KeyPairEntry).publicKey);
    rejects(() => privateKeyPemMatches('not a key\n', spki, 'k.pem'), 'BAD_PEM', 'k.pem: expected a PEM private key, found no PEM block');
    // A SEC1 key cut short: neither the DER walker nor OpenSSL can read it.
    const der = Buffer.from(encodePrivateKeyPem((pairs[0] as KeyPairEntry).privateKey).replace(/-----[^-]+-----|\s/g, ''), 'base64');
    rejects(() => privateKeyPemMatches(toPem('EC PRIVATE KEY', der.subarray(0, 40)), spki, 'k.pem'), 'BAD_KEY', /^k\.pem: the private key cannot be parsed/);
  });
});

type KeyPairEntry = { publicKey: KeyObject; privateKey: KeyObject };
