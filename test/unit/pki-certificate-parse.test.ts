// parseCertificate (the one certificate reader, a DER walker) against @peculiar's schemas
// (test/helpers/peculiar-certificate.ts), field by field: certificates etcd-tls issues with every key type and SAN kind, ones
// openssl makes (UTF-8 and multi-valued names, emails, URIs, no extensions at all), the fixtures,
// and seeded byte mutations of each, where it must agree or fail with one BAD_DER line.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseCertificate } from '../../src/pki/certificate.js';
import { peculiarCertificate } from '../helpers/peculiar-certificate.js';
import { issueCertificate, systemRandom, type Clock } from '../../src/pki/issue.js';
import { encodePrivateKeyPem, generateKeyPair, spkiDer, type KeySpec } from '../../src/pki/keys.js';
import { buildName } from '../../src/pki/name.js';
import { caProfile, ETCD_PROFILES } from '../../src/pki/profile.js';
import { emptySans, parseHosts } from '../../src/pki/san.js';
import { loadIssuer, signatureVerifies } from '../../src/pki/certificate.js';
import { parseCertificatePem } from '../../src/pki/pem.js';
import { toPem } from '../../src/pki/pem.js';
import { isEtcdTlsError } from '../../src/errors.js';
import { REPO_ROOT, requireBinary, run } from '../helpers/components.js';
import { makeTempDir } from '../helpers/tmp.js';

const CLOCK: Clock = { now: () => new Date('2026-03-04T10:17:31Z') };
const derOf = (pem: string): Buffer => Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s/g, ''), 'base64');

/** The fields both readers give, from each; they must be equal. */
function compared(der: Buffer): { facts: object; inspected: object } {
  const f = parseCertificate(der, 'x.pem');
  const v = peculiarCertificate(der);
  const pick = (o: typeof v) => ({
    serialHex: o.serialHex,
    serialDecimal: o.serialDecimal,
    subject: o.subject,
    issuer: o.issuer,
    isCA: o.isCA,
    pathLen: o.pathLen,
    subjectKeyId: o.subjectKeyId,
    crlUrls: o.crlUrls,
    ocspUrls: o.ocspUrls,
    issuerUrls: o.issuerUrls,
    extensions: o.extensions,
    selfIssued: o.selfIssued,
    sans: o.sans,
    keyUsage: o.keyUsage,
    extKeyUsage: o.extKeyUsage,
    authorityKeyId: o.authorityKeyId,
    publicKey: o.publicKey,
    notBefore: o.notBefore.getTime(),
    notAfter: o.notAfter.getTime(),
  });
  return { facts: { ...pick(f), signatureAlgorithm: f.signatureAlgorithmOid }, inspected: { ...pick(v), signatureAlgorithm: v.signatureAlgorithm } };
}

function assertSameFacts(der: Buffer, what: string): void {
  const { facts, inspected } = compared(der);
  assert.deepEqual(facts, inspected, what);
}

const KEYS: KeySpec[] = [
  { algo: 'ecdsa', size: 256 },
  { algo: 'ecdsa', size: 384 },
  { algo: 'ecdsa', size: 521 },
  { algo: 'rsa', size: 2048 },
  { algo: 'ed25519', size: 0 },
];

/** Leaves etcd-tls issues, under a CA of each key type. */
function issuedCertificates(): { what: string; der: Buffer }[] {
  const out: { what: string; der: Buffer }[] = [];
  for (const spec of KEYS) {
    const caKey = generateKeyPair(spec);
    const ca = issueCertificate(
      { subject: buildName({ CN: `CA ${spec.algo}`, names: [{ O: 'etcd-tls', OU: ['a', 'b'], C: 'US' }] }), publicKey: spkiDer(caKey.publicKey), sans: emptySans() },
      caProfile(),
      { selfSigned: true, privateKey: caKey.privateKey },
      CLOCK,
      systemRandom,
    );
    out.push({ what: `CA ${spec.algo}-${spec.size}`, der: ca.der });
    const issuer = loadIssuer(toPem('CERTIFICATE', ca.der), 'ca.pem', encodePrivateKeyPem(caKey.privateKey), 'ca-key.pem');
    const hosts = ['member1', 'etcd.example.com', '10.0.0.1', '127.0.0.1', '::1', 'fd00::a:0:0:1', 'ops@example.com', 'spiffe://cluster/etcd'];
    for (const [role, profile] of Object.entries(ETCD_PROFILES)) {
      const leafKey = generateKeyPair(spec);
      const subject = buildName({ CN: `${role} Ünïcode`, names: [{ O: ['system:masters', 'second'] }] });
      const leaf = issueCertificate({ subject, publicKey: spkiDer(leafKey.publicKey), sans: parseHosts(hosts, 'test', 'error') }, profile, issuer, CLOCK, systemRandom);
      out.push({ what: `${role} leaf under ${spec.algo}-${spec.size}`, der: leaf.der });
    }
  }
  return out;
}

describe('parseCertificate agrees with @peculiar/asn1-x509', () => {
  const issued = issuedCertificates();

  test('on certificates etcd-tls issues: every key type, profile and SAN kind', () => {
    for (const { what, der } of issued) assertSameFacts(der, what);
  });

  test('on the fixtures (cfssl- and openssl-made)', () => {
    for (const name of ['leaf.pem', 'openssl-ca.pem']) assertSameFacts(derOf(readFileSync(path.join(REPO_ROOT, 'test/fixtures/cfssl', name), 'utf8')), name);
  });

  test('on certificates openssl makes: UTF-8 and multi-valued names, emails, URIs, CRL and AIA URLs, no extensions, RSA 3072', async (t) => {
    if (!requireBinary(t, 'openssl')) return;
    const dir = await makeTempDir(t, 'facts-');
    const cases: [string, string[]][] = [
      ['utf8 and multi-valued RDN', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-utf8', '-multivalue-rdn', '-subj', '/CN=Grüße+OU=x/O=Ö/O=second/serialNumber=7', '-addext', 'subjectAltName=DNS:a.example,IP:2001:db8::1,email:x@y.z,URI:https://e/x']],
      ['no extensions', ['-newkey', 'rsa:3072', '-subj', '/CN=plain', '-addext', 'basicConstraints=critical,CA:FALSE']],
      ['CRL and AIA URLs, pathlen', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-subj', '/CN=urls', '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:2', '-addext', 'crlDistributionPoints=URI:http://crl.example/ca.crl,URI:http://crl2.example/ca.crl', '-addext', 'authorityInfoAccess=OCSP;URI:http://ocsp.example,caIssuers;URI:http://ca.example/ca.der']],
      ['usages', ['-newkey', 'ed25519', '-subj', '/C=DE/CN=u', '-addext', 'keyUsage=critical,digitalSignature,keyAgreement,cRLSign', '-addext', 'extendedKeyUsage=serverAuth,codeSigning,1.2.3.4']],
    ];
    for (const [what, args] of cases) {
      const out = path.join(dir, 'c.pem');
      const r = await run('openssl', ['req', '-x509', '-nodes', '-keyout', path.join(dir, 'k.pem'), '-out', out, '-days', '30', ...args]);
      assert.equal(r.code, 0, r.stderr);
      assertSameFacts(derOf(readFileSync(out, 'utf8')), what);
    }
  });

  test('on seeded byte mutations: the same facts, or one BAD_DER line', () => {
    let state = 42;
    const next = (below: number): number => {
      state = (state * 1103515245 + 12345) & 0x7fffffff;
      return state % below;
    };
    let agreed = 0;
    for (let i = 0; i < 600; i++) {
      const base = issued[next(issued.length)]?.der as Buffer;
      const der = Buffer.from(base);
      for (let k = 0; k <= next(2); k++) der[next(der.length)] = next(256);
      let facts: unknown;
      try {
        facts = compared(der);
      } catch (e) {
        // Either reader refusing is fine, as long as ours refuses in one line of ours.
        try {
          parseCertificate(der, 'x.pem');
        } catch (ours) {
          assert.ok(isEtcdTlsError(ours) && /^x\.pem: not a valid X\.509 certificate \([^\n]*\)$/.test(ours.message), `${(ours as Error).message}\n${der.toString('hex')}`);
        }
        void e;
        continue;
      }
      const { facts: f, inspected } = facts as ReturnType<typeof compared>;
      // A mutated string tag may decode differently; what plan compares (SANs, usages, key) must not.
      const { subject: _a, issuer: _c, ...restFacts } = f as { subject: unknown; issuer: unknown };
      const { subject: _b, issuer: _d, ...restInspected } = inspected as { subject: unknown; issuer: unknown };
      assert.deepEqual(restFacts, restInspected, der.toString('hex'));
      agreed++;
    }
    assert.ok(agreed > 50, `only ${agreed} mutations parsed with both readers`);
  });
});

describe('parseCertificate reads fields as views of the DER', () => {
  test('a BMPString name decodes the same every time and leaves the signed bytes as they were', async (t) => {
    if (!requireBinary(t, 'openssl')) return;
    const dir = await makeTempDir(t, 'bmp-');
    const cnf = path.join(dir, 'req.cnf');
    const { writeFileSync } = await import('node:fs');
    // string_mask 0x800: openssl encodes every name attribute as a BMPString (UTF-16BE).
    writeFileSync(cnf, '[req]\ndistinguished_name=dn\nstring_mask=MASK:0x800\nprompt=no\nutf8=yes\n[dn]\nCN=Zoë bmp\nO=Ünïcode Org\n');
    const r = await run('openssl', ['req', '-x509', '-config', cnf, '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, 'k.pem'), '-out', path.join(dir, 'c.pem'), '-days', '1']);
    assert.equal(r.code, 0, r.stderr);
    const der = parseCertificatePem(readFileSync(path.join(dir, 'c.pem'), 'utf8'), 'c.pem');
    const before = Buffer.from(der);
    const first = parseCertificate(der, 'c.pem');
    // A second parse of a copy: the shared name view must not hide a first parse that changed the bytes.
    const second = parseCertificate(Buffer.from(der), 'c.pem');
    assert.equal(first.subject.text, 'CN=Zoë bmp, O=Ünïcode Org');
    assert.equal(second.subject.text, first.subject.text);
    assert.ok(der.equals(before), 'parsing changed the certificate bytes');
    assert.ok(signatureVerifies(first, first), 'the self-signature no longer verifies');
  });
});
