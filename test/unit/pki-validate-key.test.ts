// validatePublicKey recognises etcd-tls's own P-256 keys by their bytes: it must answer exactly what the
// DER walk (keySpecOfSpki, then validateExistingKey) answers, for those keys and for anything near them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { keySpecOfSpki } from '../../src/pki/certificate.js';
import { validateExistingKey } from '../../src/pki/keys.js';
import { validatePublicKey, validateSans } from '../../src/pki/validate.js';
import { isEtcdTlsError } from '../../src/errors.js';

const spkiOf = (type: 'ec' | 'rsa' | 'ed25519', opts: object = {}): Buffer =>
  generateKeyPairSync(type as 'ec', opts as { namedCurve: string }).publicKey.export({ format: 'der', type: 'spki' });

/** What the DER walk decides: undefined (certified) or the error code. */
function byDerWalk(spki: Buffer): string | undefined {
  try {
    validateExistingKey(keySpecOfSpki(spki), 'test');
    return undefined;
  } catch (e) {
    return isEtcdTlsError(e) ? e.code : 'BAD_KEY_SPEC';
  }
}

function byValidate(spki: Buffer): string | undefined {
  try {
    validatePublicKey(spki, 'test');
    return undefined;
  } catch (e) {
    assert.ok(isEtcdTlsError(e), `not a domain error: ${(e as Error).message}`);
    return e.code;
  }
}

test('every key kind is certified or refused as the DER walk decides', () => {
  const keys = [
    ...Array.from({ length: 50 }, () => spkiOf('ec', { namedCurve: 'P-256' })),
    spkiOf('ec', { namedCurve: 'P-384' }),
    spkiOf('ec', { namedCurve: 'P-521' }),
    spkiOf('ec', { namedCurve: 'secp256k1' }),
    spkiOf('ed25519'),
    spkiOf('rsa', { modulusLength: 2048 }),
    spkiOf('rsa', { modulusLength: 1024 }),
  ];
  for (const k of keys) assert.equal(byValidate(k), byDerWalk(k), k.toString('hex'));
  assert.equal(byValidate(keys[0] as Buffer), undefined);
  assert.equal(byValidate(keys[keys.length - 1] as Buffer), 'BAD_KEY_SPEC');
});

test('a P-256 key with any header byte changed, cut short or lengthened is judged by the DER walk', () => {
  const good = spkiOf('ec', { namedCurve: 'P-256' });
  const variants: Buffer[] = [good.subarray(0, 90), Buffer.concat([good, Buffer.from([0])]), good.subarray(0, 27)];
  for (let i = 0; i < 27; i++) {
    for (const x of [1, 0x80, 0xff]) {
      const v = Buffer.from(good);
      v[i] = (v[i] as number) ^ x;
      variants.push(v);
    }
  }
  // The compressed form of a point (0x02/0x03) and random tails.
  for (const lead of [0x02, 0x03, 0x00]) {
    const v = Buffer.from(good);
    v[26] = lead;
    variants.push(v);
  }
  for (let i = 0; i < 200; i++) variants.push(Buffer.concat([good.subarray(0, 27), randomBytes(i % 7 === 0 ? 63 : 64)]));
  for (const v of variants) assert.equal(byValidate(v), byDerWalk(v), v.toString('hex'));
});

test('SANs checked before are not checked again, and a refused SAN is refused every time, naming its source', () => {
  const sans = (dns: string[], ips: string[]) => ({ dns, ips, emails: [], uris: [] });
  const code = (s: ReturnType<typeof sans>, where: string): string => {
    try {
      validateSans(s, where);
      return 'ok';
    } catch (e) {
      assert.ok(isEtcdTlsError(e));
      assert.ok(e.message.startsWith(`${where}: `), e.message);
      return e.code;
    }
  };
  for (let round = 0; round < 3; round++) {
    assert.equal(code(sans(['localhost', 'member1.example.com'], ['127.0.0.1', '::1']), `cert ${round}`), 'ok');
    assert.equal(code(sans(['localhost', 'bad_name'], ['127.0.0.1']), `bad dns ${round}`), 'BAD_HOSTNAME');
    assert.equal(code(sans(['localhost'], ['127.0.0.1', '224.0.0.1']), `multicast ${round}`), 'BAD_HOSTNAME');
    assert.equal(code(sans([`a\u0007b.example.com`], []), `control ${round}`), 'CONTROL_CHARACTER');
  }
  // Past the bound the memory starts over; every SAN is still judged.
  for (let i = 0; i < 5000; i++) assert.equal(code(sans([`m${i}.example.com`], [`10.${i >> 8}.${i & 255}.1`]), 'many'), 'ok');
  assert.equal(code(sans(['bad_name'], []), 'after'), 'BAD_HOSTNAME');
});
