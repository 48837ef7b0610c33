/** generateKey/generateKeyAsync: leaf keys already encoded (EC by hand from ECDH, others by the keygen job; no KeyObject). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { generateKey, generateKeyAsync, keySpecOf, type KeySpec } from '../../src/pki/keys.js';
import { run } from '../helpers/components.js';

const SPECS: [KeySpec, string][] = [
  [{ algo: 'ecdsa', size: 256 }, 'EC PRIVATE KEY'],
  [{ algo: 'ecdsa', size: 384 }, 'EC PRIVATE KEY'],
  [{ algo: 'ecdsa', size: 521 }, 'EC PRIVATE KEY'],
  [{ algo: 'ed25519', size: 0 }, 'PRIVATE KEY'],
  [{ algo: 'rsa', size: 2048 }, 'RSA PRIVATE KEY'],
];

describe('generateKey and generateKeyAsync', () => {
  for (const [spec, label] of SPECS) {
    for (const [name, gen] of [['sync', async (s: KeySpec) => generateKey(s)], ['async', generateKeyAsync]] as const) {
      test(`${name} ${spec.algo}-${spec.size}: the PEM is the traditional form and the SPKI is its public key`, async () => {
        const key = await gen(spec);
        assert.match(key.privateKeyPem, new RegExp(`^-----BEGIN ${label}-----\\n`));
        const parsed = createPrivateKey(key.privateKeyPem);
        assert.deepEqual(keySpecOf(parsed), spec.algo === 'ed25519' ? { algo: 'ed25519', size: 0 } : spec);
        assert.ok(key.spki.equals(createPublicKey(parsed).export({ type: 'spki', format: 'der' })));
      });
    }
  }

  test('two keys differ', () => {
    assert.notEqual(generateKey({ algo: 'ecdsa', size: 256 }).privateKeyPem, generateKey({ algo: 'ecdsa', size: 256 }).privateKeyPem);
  });

  test('regression: no deadlock with frequent GCs while keys are made (the Node 20 keygen-job bug)', async () => {
    // A 1 MB young generation makes GCs frequent, as in pki-keys' test that hung the old generateKeyPair.
    const keys = new URL('../../src/pki/keys.js', import.meta.url).href;
    const script = `const { generateKey } = await import(${JSON.stringify(keys)});
for (let i = 0; i < 2000; i++) generateKey({ algo: 'ecdsa', size: 256 });
console.log('done');`;
    const r = await run(process.execPath, ['--max-semi-space-size=1', '--input-type=module', '-e', script], { timeoutMs: 30_000 });
    assert.equal(r.timedOut, false, 'the child process deadlocked');
    assert.equal(r.stdout.trim(), 'done', r.stderr);
  });
});
