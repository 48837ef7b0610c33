// The CRL encoder checked by openssl: `openssl crl -verify` accepts the signature against the CA for
// every CA key type, and `openssl crl -text` lists the serials, reasons, dates and CRL number we mean.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { toPem } from '../../src/pki/pem.js';
import { crlSignedBy, issueCrl, parseCrl } from '../../src/pki/crl.js';
import { generateKeyPair, spkiDer, type KeySpec } from '../../src/pki/keys.js';
import { buildName } from '../../src/pki/name.js';
import { caProfile } from '../../src/pki/profile.js';
import { emptySans } from '../../src/pki/san.js';
import { issueCertificate } from '../../src/pki/issue.js';
import { requireBinary, run } from '../helpers/components.js';
import { makeTempDir } from '../helpers/tmp.js';

const SPECS: KeySpec[] = [
  { algo: 'ecdsa', size: 256 },
  { algo: 'ecdsa', size: 384 },
  { algo: 'rsa', size: 2048 },
  { algo: 'ed25519', size: 0 },
];
const NOW = new Date('2026-03-01T12:00:00Z');

function makeCa(spec: KeySpec) {
  const key = generateKeyPair(spec);
  const ca = issueCertificate(
    { subject: buildName({ CN: `crl test CA ${spec.algo}`, names: [{ O: 'etcd-tls' }] }, 'test'), publicKey: spkiDer(key.publicKey), sans: emptySans() },
    caProfile(),
    { selfSigned: true, privateKey: key.privateKey },
    { now: () => NOW },
  );
  return { der: ca.der, key: key.privateKey };
}

describe('CRL encoder against openssl', () => {
  for (const spec of SPECS) {
    test(`${spec.algo}${spec.size || ''}: openssl crl -verify accepts it and reads every entry`, async (t) => {
      if (!requireBinary(t, 'openssl')) return;
      const dir = await makeTempDir(t, 'crl-');
      const ca = makeCa(spec);
      const der = issueCrl({
        issuerCertificateDer: ca.der,
        issuerPrivateKey: ca.key,
        revoked: [
          { serial: 0x7a1b2c3dn, revokedAt: new Date('2026-02-28T10:00:00Z'), reason: 'keyCompromise' },
          { serial: 0x01n, revokedAt: new Date('2026-02-27T10:00:00Z') },
          { serial: BigInt('0x' + 'ff'.repeat(20)), revokedAt: new Date('2026-02-26T10:00:00Z'), reason: 'cessationOfOperation' },
        ],
        thisUpdate: NOW,
        nextUpdate: new Date(NOW.getTime() + 7 * 86_400_000),
        crlNumber: 42n,
      });
      writeFileSync(path.join(dir, 'ca.pem'), toPem('CERTIFICATE', ca.der));
      writeFileSync(path.join(dir, 'crl.der'), der);
      const r = await run('openssl', ['crl', '-inform', 'DER', '-in', 'crl.der', '-CAfile', 'ca.pem', '-noout', '-text', '-verify'], { cwd: dir });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr + r.stdout, /verify OK/);
      assert.match(r.stdout, /X509v3 CRL Number:\s*\n\s*42/);
      assert.match(r.stdout, /Serial Number: 7A1B2C3D\s*\n\s*Revocation Date: Feb 28 10:00:00 2026 GMT\s*\n\s*CRL entry extensions:\s*\n\s*X509v3 CRL Reason Code:\s*\n\s*Key Compromise/);
      assert.match(r.stdout, /Serial Number: 01\s*\n\s*Revocation Date: Feb 27/);
      assert.match(r.stdout, /Cessation Of Operation/);
      assert.match(r.stdout, /Next Update: Mar  8 12:00:00 2026 GMT/);

      const view = parseCrl(der, 'crl.der');
      assert.equal(view.crlNumber, 42n);
      assert.deepEqual(view.revoked.map((e) => e.serialHex), ['01', '7a1b2c3d', 'ff'.repeat(20)]);
      assert.equal(view.revoked[1]?.reason, 'keyCompromise');
      assert.equal(crlSignedBy(view, ca.der), true);
      assert.equal(crlSignedBy(view, makeCa(spec).der), false, 'another CA with the same key type does not verify it');
      // PEM is read too, the same as DER.
      assert.deepEqual(parseCrl(toPem('X509 CRL', der)).revoked, view.revoked);
    });
  }

  test('an empty CRL has no revokedCertificates field and still verifies', async (t) => {
    if (!requireBinary(t, 'openssl')) return;
    const dir = await makeTempDir(t, 'crl-');
    const ca = makeCa({ algo: 'ecdsa', size: 256 });
    const der = issueCrl({ issuerCertificateDer: ca.der, issuerPrivateKey: ca.key, revoked: [], thisUpdate: NOW, nextUpdate: new Date(NOW.getTime() + 3600_000), crlNumber: 1n });
    writeFileSync(path.join(dir, 'ca.pem'), toPem('CERTIFICATE', ca.der));
    writeFileSync(path.join(dir, 'crl.der'), der);
    const r = await run('openssl', ['crl', '-inform', 'DER', '-in', 'crl.der', '-CAfile', 'ca.pem', '-noout', '-text', '-verify'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /No Revoked Certificates/);
    assert.deepEqual(parseCrl(der).revoked, []);
  });

  test('a tampered CRL fails the signature check and garbage is BAD_DER', () => {
    const ca = makeCa({ algo: 'ecdsa', size: 256 });
    const der = Buffer.from(issueCrl({ issuerCertificateDer: ca.der, issuerPrivateKey: ca.key, revoked: [{ serial: 5n, revokedAt: NOW }], thisUpdate: NOW, nextUpdate: new Date(NOW.getTime() + 3600_000), crlNumber: 1n }));
    const i = der.indexOf(Buffer.from([0x02, 0x01, 0x05]));
    der[i + 2] = 6; // revoke serial 6 instead
    const view = parseCrl(der);
    assert.equal(view.revoked[0]?.serialHex, '06');
    assert.equal(crlSignedBy(view, ca.der), false);
    assert.throws(() => parseCrl(Buffer.from('not a crl')), (e: Error & { code?: string }) => e.code === 'BAD_DER' || e.code === 'BAD_PEM');
  });
});
