// readCsrCore (the TLV walker the signing server uses) agrees with inspectCsr (the schema decoder) on
// every CSR shape: each key type, SANs of every kind, a CA request, and a tampered signature.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildCsr, readCsrCore } from '../../src/pki/csr.js';
import { parsePemBlocks } from '../../src/pki/pem.js';
import { inspectCsr } from '../../src/pki/inspect.js';
import { generateKeyPair, type KeySpec } from '../../src/pki/keys.js';
import { REPO_ROOT } from '../helpers/components.js';
import { rejects } from '../helpers/assertions.js';

const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'cfssl');

function agree(der: Buffer): void {
  const fast = readCsrCore(der, 'csr');
  const full = inspectCsr(der, 'csr');
  assert.deepEqual(fast.subjectDer, full.subjectDer);
  assert.deepEqual(fast.publicKeySpki, full.publicKeySpki);
  assert.deepEqual(fast.sans, full.sans);
  assert.deepEqual(fast.ca, full.ca);
  assert.equal(fast.signatureValid, full.signatureValid);
}

describe('readCsrCore', () => {
  const specs: KeySpec[] = [
    { algo: 'ecdsa', size: 256 },
    { algo: 'ecdsa', size: 384 },
    { algo: 'ecdsa', size: 521 },
    { algo: 'rsa', size: 2048 },
    { algo: 'ed25519', size: 0 },
  ];
  for (const spec of specs)
    test(`${spec.algo} ${spec.size || ''}: same subject, key, SANs and verdict as inspectCsr`, () => {
      const key = generateKeyPair(spec).privateKey;
      const sans = { dns: ['member1', 'etcd.example'], ips: ['10.0.0.1', '2001:db8::1'], emails: ['a@example.com'], uris: ['spiffe://x/y'] };
      agree(buildCsr({ subject: [{ type: 'CN', value: 'member1' }, { type: 'O', value: 'etcd' }], sans }, key));
      agree(buildCsr({ subject: [{ type: 'CN', value: 'ca' }], sans: { dns: [], ips: [], emails: [], uris: [] }, ca: { pathLen: 1 } }, key));
    });

  test('the cfssl-made fixture CSR, and its tampered copy (signature fails in both readers)', () => {
    for (const file of ['csr-fixture.csr', 'bad-signature.csr']) {
      const der = (parsePemBlocks(readFileSync(path.join(FIXTURES, file), 'utf8'))[0] as { der: Buffer }).der;
      agree(der);
    }
    const bad = (parsePemBlocks(readFileSync(path.join(FIXTURES, 'bad-signature.csr'), 'utf8'))[0] as { der: Buffer }).der;
    assert.equal(readCsrCore(bad, 'bad').signatureValid, false);
  });

  test('malformed DER is one BAD_DER naming the source', () => {
    rejects(() => readCsrCore(Buffer.from([0x30, 0x03, 0x02, 0x01]), 'x.csr'), 'BAD_DER', /^x\.csr: not a valid PKCS#10 certificate request/);
    rejects(() => readCsrCore(Buffer.from([0x30, 0x00]), 'x.csr'), 'BAD_DER', /^x\.csr: /);
  });
});
