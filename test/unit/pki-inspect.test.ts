// CSRs (build → inspect round trip, signature checking) and the typed certificate view.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { toPem } from '../../src/pki/pem.js';
import { loadIssuer, parseCertificate, subjectPublicKeyBits } from '../../src/pki/certificate.js';
import { buildCsr } from '../../src/pki/csr.js';
import { encodePrivateKeyPem, generateKeyPair, spkiDer, type KeySpec } from '../../src/pki/keys.js';
import { buildName, encodeName } from '../../src/pki/name.js';
import { caProfile, ETCD_PROFILES, type Profile } from '../../src/pki/profile.js';
import { emptySans, parseHosts } from '../../src/pki/san.js';
import { inspectCsr } from '../../src/pki/inspect.js';
import { issueCertificate, type Clock, type RandomSource } from '../../src/pki/issue.js';
import { rejects } from '../helpers/assertions.js';


const SPECS: KeySpec[] = [
  { algo: 'ecdsa', size: 256 },
  { algo: 'ecdsa', size: 384 },
  { algo: 'ecdsa', size: 521 },
  { algo: 'ed25519', size: 0 },
];
const label = (s: KeySpec): string => (s.algo === 'ed25519' ? 'Ed25519' : `P-${s.size}`);

describe('csr: buildCsr → inspectCsr', () => {
  for (const spec of SPECS) {
    test(`${label(spec)}: subject, SANs and key survive; the signature verifies`, () => {
      const key = generateKeyPair(spec);
      const subject = buildName({ CN: 'etcd-1', names: [{ C: 'US', O: 'Acme', OU: ['a', 'b'] }] });
      const sans = parseHosts(['etcd-1.example.com', '10.0.0.1', '::1', 'ops@example.com', 'spiffe://x/y'], 'hosts', 'error');
      const view = inspectCsr(buildCsr({ subject, sans }, key.privateKey));
      assert.equal(view.subject.text, 'C=US, O=Acme, OU=a, OU=b, CN=etcd-1');
      assert.deepEqual(view.subjectDer, encodeName(subject));
      assert.deepEqual(view.sans, sans);
      assert.deepEqual(view.publicKey, spec);
      assert.deepEqual(view.publicKeySpki, spkiDer(key.publicKey));
      assert.equal(view.ca, undefined);
      assert.equal(view.signatureValid, true);
    });
  }

  test('a CA request carries CA:TRUE, with and without a path length', () => {
    const key = generateKeyPair(SPECS[0] as KeySpec);
    const subject = buildName({ CN: 'My own CA' });
    assert.deepEqual(inspectCsr(buildCsr({ subject, sans: emptySans(), ca: {} }, key.privateKey)).ca, {});
    assert.deepEqual(inspectCsr(buildCsr({ subject, sans: emptySans(), ca: { pathLen: 0 } }, key.privateKey)).ca, { pathLen: 0 });
    assert.deepEqual(inspectCsr(buildCsr({ subject, sans: emptySans(), ca: { pathLen: 2 } }, key.privateKey)).ca, { pathLen: 2 });
  });

  test('a request with neither SANs nor CA has no attributes and still verifies', () => {
    const key = generateKeyPair(SPECS[3] as KeySpec);
    const view = inspectCsr(buildCsr({ subject: buildName({ CN: 'c' }), sans: emptySans() }, key.privateKey));
    assert.deepEqual(view.sans, emptySans());
    assert.equal(view.signatureValid, true);
  });

  for (const spec of SPECS) {
    test(`${label(spec)}: one flipped signature bit makes signatureValid false`, () => {
      const key = generateKeyPair(spec);
      const der = buildCsr({ subject: buildName({ CN: 'x' }), sans: emptySans() }, key.privateKey);
      // The signature BIT STRING is the last element, so the last byte is signature.
      const flipped = Buffer.from(der);
      flipped[flipped.length - 1] = (flipped[flipped.length - 1] as number) ^ 0x01;
      assert.equal(inspectCsr(der).signatureValid, true);
      assert.equal(inspectCsr(flipped).signatureValid, false);
    });
  }

  test('a changed subject makes signatureValid false too', () => {
    const key = generateKeyPair(SPECS[0] as KeySpec);
    const der = buildCsr({ subject: buildName({ CN: 'aaaa' }), sans: emptySans() }, key.privateKey);
    const i = der.indexOf(Buffer.from('aaaa'));
    const tampered = Buffer.from(der);
    tampered[i] = 0x62;
    const view = inspectCsr(tampered);
    assert.equal(view.subject.text, 'CN=baaa');
    assert.equal(view.signatureValid, false);
  });

  test('bytes that are not a CSR are BAD_DER naming the source', () => {
    rejects(() => inspectCsr(Buffer.from('not a csr'), 'req.csr'), 'BAD_DER', /^req\.csr: not a valid PKCS#10 certificate request/);
  });
});

describe('inspect: parseCertificate', () => {
  const clock: Clock = { now: () => new Date('2025-03-04T10:17:31Z') };
  const random: RandomSource = (n) => Buffer.from(Array.from({ length: n }, (_, i) => i + 1));
  const caKey = generateKeyPair({ algo: 'ecdsa', size: 384 });
  const caSubject = buildName({ CN: 'My own CA', names: [{ C: 'US', ST: 'San Francisco', O: 'My Company Name', OU: ['Org Unit 1', 'Org Unit 2'] }] });
  const caDer = issueCertificate(
    { subject: caSubject, publicKey: spkiDer(caKey.publicKey), sans: emptySans() },
    caProfile(),
    { selfSigned: true, privateKey: caKey.privateKey },
    clock,
    random,
  ).der;
  const issuer = loadIssuer(toPem('CERTIFICATE', caDer), 'ca.pem', encodePrivateKeyPem(caKey.privateKey), 'ca-key.pem');
  const profile: Profile = {
    ...ETCD_PROFILES.server,
    name: 'with-urls',
    crlUrls: ['http://pki.example.com/ca.crl', 'http://backup.example.com/ca.crl'],
    ocspUrls: ['http://ocsp.example.com'],
    issuerUrls: ['http://pki.example.com/ca.crt'],
  };
  const leafKey = generateKeyPair({ algo: 'ecdsa', size: 256 });
  const sans = parseHosts(['etcd-1.example.com', 'localhost', '10.0.0.1', '::1'], 'hosts', 'error');
  const leafDer = issueCertificate({ subject: buildName({ CN: 'etcd-1' }), publicKey: spkiDer(leafKey.publicKey), sans }, profile, issuer, clock, random).der;
  const sha1 = (b: Buffer): string => createHash('sha1').update(b).digest('hex');

  test('the CA: subject text with both OUs, serial in hex and decimal, P-384 signing SHA-384', () => {
    const v = parseCertificate(caDer);
    assert.equal(v.subject.text, 'C=US, ST=San Francisco, O=My Company Name, OU=Org Unit 1, OU=Org Unit 2, CN=My own CA');
    assert.equal(v.issuer.text, v.subject.text);
    assert.equal(v.serialHex, '0102030405060708090a0b0c0d0e0f1011121314');
    assert.equal(v.serialDecimal, '5753854965885600108575829560559299546819203860');
    assert.equal(v.signatureAlgorithm, 'ECDSAWithSHA384');
    assert.deepEqual(v.publicKey, { algo: 'ecdsa', size: 384 });
    assert.equal(v.notBefore.toISOString(), '2025-03-04T10:13:00.000Z');
    assert.equal(v.notAfter.toISOString(), '2030-03-03T10:13:00.000Z');
    assert.deepEqual(v.crlUrls, []);
  });

  test('the leaf: SKI/AKI, keyUsage and EKU names, SANs, CRL/OCSP/issuer URLs, extension order', () => {
    const v = parseCertificate(leafDer, 'server.pem');
    assert.equal(v.subject.text, 'CN=etcd-1');
    assert.equal(v.issuer.text, 'C=US, ST=San Francisco, O=My Company Name, OU=Org Unit 1, OU=Org Unit 2, CN=My own CA');
    assert.equal(v.subjectKeyId, sha1(subjectPublicKeyBits(spkiDer(leafKey.publicKey))));
    assert.equal(v.authorityKeyId, sha1(subjectPublicKeyBits(spkiDer(caKey.publicKey))));
    assert.deepEqual(v.keyUsage, ['digitalSignature', 'keyEncipherment']);
    assert.deepEqual(v.extKeyUsage, ['serverAuth', 'clientAuth']);
    assert.deepEqual(v.sans, { dns: ['etcd-1.example.com', 'localhost'], ips: ['10.0.0.1', '::1'], emails: [], uris: [] });
    assert.deepEqual(v.crlUrls, ['http://pki.example.com/ca.crl', 'http://backup.example.com/ca.crl']);
    assert.deepEqual(v.ocspUrls, ['http://ocsp.example.com']);
    assert.deepEqual(v.issuerUrls, ['http://pki.example.com/ca.crt']);
    assert.equal(v.signatureAlgorithm, 'ECDSAWithSHA384');
    assert.deepEqual(v.publicKey, { algo: 'ecdsa', size: 256 });
    assert.deepEqual(
      v.extensions.map((e) => `${e.oid}${e.critical ? '!' : ''}`),
      ['2.5.29.15!', '2.5.29.37', '2.5.29.19!', '2.5.29.14', '2.5.29.35', '1.3.6.1.5.5.7.1.1', '2.5.29.17', '2.5.29.31'],
    );
  });

  test('bytes that are not a certificate are BAD_DER naming the source', () => {
    rejects(() => parseCertificate(leafDer.subarray(0, 100), 'server.pem'), 'BAD_DER', /^server\.pem: not a valid X\.509 certificate/);
  });
});
