// The Go-style chain and host checks behind `probe`: each way a server certificate can fail, with the
// words a Go client (etcdctl, kube-apiserver) would print. Certificates are issued in-process.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { caProfile, ETCD_PROFILES, type Profile } from '../../src/pki/profile.js';
import { issueCertificate, type Clock } from '../../src/pki/issue.js';
import { loadIssuer, type Issuer } from '../../src/pki/certificate.js';
import { encodePrivateKeyPem, generateKeyPair, spkiDer } from '../../src/pki/keys.js';
import { toPem } from '../../src/pki/pem.js';
import { parseUsages } from '../../src/pki/extensions.js';
import { checkHost, describeCertificate, verifyChain } from '../../src/doctor/probe/verify.js';
import { parsePemCertificates } from '../../src/pki/pem.js';

const NOW = new Date('2026-06-01T12:00:00Z');
const at = (iso: string): Clock => ({ now: () => new Date(iso) });
const clock = at('2026-06-01T00:00:00Z');

function makeCa(cn: string): { der: Buffer; issuer: Issuer } {
  const { privateKey } = generateKeyPair({ algo: 'ecdsa', size: 256 });
  const req = { subject: [{ type: 'CN' as const, value: cn }], publicKey: spkiDer(privateKey), sans: { dns: [], ips: [], emails: [], uris: [] }, ca: {} };
  const { der } = issueCertificate(req, caProfile(), { selfSigned: true, privateKey }, at('2026-01-01T00:00:00Z'));
  return { der, issuer: loadIssuer(toPem('CERTIFICATE', der), 'ca.pem', encodePrivateKeyPem(privateKey), 'ca-key.pem') };
}

function leaf(ca: Issuer, cn: string, sans: { ips?: string[]; dns?: string[] } = {}, profile: Profile = ETCD_PROFILES.server, when: Clock = clock): Buffer {
  const { privateKey } = generateKeyPair({ algo: 'ecdsa', size: 256 });
  const req = { subject: [{ type: 'CN' as const, value: cn }], publicKey: spkiDer(privateKey), sans: { dns: sans.dns ?? [], ips: sans.ips ?? [], emails: [], uris: [] } };
  return issueCertificate(req, profile, ca, when).der;
}

const ca = makeCa('probe unit CA');
const other = makeCa('other CA');

describe('verifyChain', () => {
  test('a leaf of the CA verifies and names the CA it chains to', () => {
    const v = verifyChain([leaf(ca.issuer, 'm1', { ips: ['127.0.0.61'] })], [ca.der], 'serverAuth', NOW);
    assert.deepEqual(v, { anchor: 'CN=probe unit CA', problems: [] });
  });

  test('a leaf of another CA: unknown authority, naming the issuer that is missing', () => {
    const v = verifyChain([leaf(other.issuer, 'm1')], [ca.der], 'serverAuth', NOW);
    assert.equal(v.anchor, undefined);
    assert.equal(v.problems.length, 1);
    assert.equal(v.problems[0]?.id, 'unknown-authority');
    assert.match(v.problems[0]?.message ?? '', /signed by unknown authority: its issuer "CN=other CA" is not in the CA file/);
  });

  test('a regenerated CA with the same name is called out as a near miss', () => {
    const twin = makeCa('probe unit CA');
    const v = verifyChain([leaf(twin.issuer, 'm1')], [ca.der], 'serverAuth', NOW);
    assert.match(v.problems[0]?.message ?? '', /has the name of a CA in the CA file, but that CA's key did not sign it/);
  });

  test('a CA file with several CAs: the right one is found', () => {
    const v = verifyChain([leaf(ca.issuer, 'm1')], [other.der, ca.der], 'serverAuth', NOW);
    assert.equal(v.anchor, 'CN=probe unit CA');
  });

  test('expired and not-yet-valid leaves are reported in Go\'s words', () => {
    const short: Profile = { ...ETCD_PROFILES.server, expiryMs: 3_600_000 };
    const expired = verifyChain([leaf(ca.issuer, 'old', {}, short, at('2026-05-01T00:00:00Z'))], [ca.der], 'serverAuth', NOW);
    assert.deepEqual(expired.problems.map((p) => [p.id, p.message]), [
      ['cert-expired', 'x509: certificate has expired or is not yet valid: current time 2026-06-01T12:00:00Z is after 2026-05-01T01:00:00Z'],
    ]);
    const early = verifyChain([leaf(ca.issuer, 'early', {}, short, at('2026-07-01T00:00:00Z'))], [ca.der], 'serverAuth', NOW);
    assert.match(early.problems[0]?.message ?? '', /current time 2026-06-01T12:00:00Z is before 2026-06-30T23:55:00Z/);
  });

  test('the usage is checked: a client certificate served as a server certificate is incompatible', () => {
    const client = leaf(ca.issuer, 'root', {}, ETCD_PROFILES.client);
    assert.deepEqual(verifyChain([client], [ca.der], 'clientAuth', NOW).problems, []);
    const asServer = verifyChain([client], [ca.der], 'serverAuth', NOW);
    assert.equal(asServer.problems[0]?.id, 'eku-incompatible');
    assert.match(asServer.problems[0]?.message ?? '', /allows clientAuth but not serverAuth/);
    const serverOnly: Profile = { ...ETCD_PROFILES.server, usages: parseUsages(['digital signature', 'server auth']) };
    assert.equal(verifyChain([leaf(ca.issuer, 'm1', {}, serverOnly)], [ca.der], 'clientAuth', NOW).problems[0]?.id, 'eku-incompatible');
  });

  test('no certificate at all is not a crash', () => {
    assert.equal(verifyChain([], [ca.der], 'serverAuth', NOW).problems[0]?.id, 'unknown-authority');
  });
});

describe('checkHost follows Go\'s order and wording', () => {
  const both = leaf(ca.issuer, 'm1', { ips: ['127.0.0.61', '127.0.0.1'], dns: ['m1', 'Etcd.Example.COM', '*.etcd.internal'] });
  const cases: { name: string; cert: Buffer; host: string; id?: string; message?: string }[] = [
    { name: 'IP in the IP SANs', cert: both, host: '127.0.0.61' },
    { name: 'DNS name in the SANs, case-insensitive', cert: both, host: 'etcd.example.com' },
    { name: 'wildcard DNS SAN', cert: both, host: 'a.etcd.internal' },
    { name: 'bracketed IPv6 host', cert: leaf(ca.issuer, 'v6', { ips: ['::1'] }), host: '[::1]' },
    { name: 'IP not covered', cert: both, host: '127.0.0.64', id: 'san-mismatch', message: 'x509: certificate is valid for 127.0.0.61, 127.0.0.1, not 127.0.0.64' },
    { name: 'name not covered', cert: both, host: 'm2', id: 'san-mismatch', message: 'x509: certificate is valid for m1, Etcd.Example.COM, *.etcd.internal, not m2' },
    { name: 'IP against DNS-only SANs', cert: leaf(ca.issuer, 'd', { dns: ['etcd-1'] }), host: '10.0.0.1', id: 'no-ip-sans', message: "x509: cannot validate certificate for 10.0.0.1 because it doesn't contain any IP SANs" },
    { name: 'name against IP-only SANs', cert: leaf(ca.issuer, 'i', { ips: ['10.0.0.1'] }), host: 'etcd-1', id: 'san-mismatch', message: 'x509: certificate is not valid for any names, but wanted to match etcd-1' },
    { name: 'CN-only certificate whose CN is the host', cert: leaf(ca.issuer, '127.0.0.68'), host: '127.0.0.68', id: 'legacy-common-name', message: 'x509: certificate relies on legacy Common Name field, use SANs instead' },
    { name: 'CN-only certificate, named by DNS', cert: leaf(ca.issuer, 'etcd-1'), host: 'ETCD-1', id: 'legacy-common-name' },
    { name: 'CN-only certificate, another IP', cert: leaf(ca.issuer, 'etcd-1'), host: '10.0.0.9', id: 'no-ip-sans' },
    { name: 'CN-only certificate, another name', cert: leaf(ca.issuer, 'etcd-1'), host: 'etcd-2', id: 'legacy-common-name', message: 'x509: certificate is not valid for any names, but wanted to match etcd-2' },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const p = checkHost(c.cert, c.host);
      if (!c.id) return assert.equal(p, undefined);
      assert.equal(p?.id, c.id);
      if (c.message) assert.equal(p?.message, c.message);
    });
  }
});

test('describeCertificate lists SANs as openssl does and marks certificates from the CA file', () => {
  const d = describeCertificate(leaf(ca.issuer, 'm1', { ips: ['127.0.0.61'], dns: ['m1'] }));
  assert.equal(d.subject, 'CN=m1');
  assert.equal(d.issuer, 'CN=probe unit CA');
  assert.deepEqual(d.sans, ['DNS:m1', 'IP:127.0.0.61']);
  assert.deepEqual(d.extKeyUsage, ['serverAuth', 'clientAuth']);
  assert.equal(d.fromCaFile, false);
  assert.equal(describeCertificate(ca.der, true).isCA, true);
});

test('parsePemCertificates reads every block of a bundle and ignores keys', () => {
  const bundle = `${toPem('CERTIFICATE', ca.der)}${toPem('EC PRIVATE KEY', Buffer.from([1, 2]))}${toPem('CERTIFICATE', other.der)}`;
  const certs = parsePemCertificates(bundle, 'bundle.pem');
  assert.equal(certs.length, 2);
  assert.ok(certs[0]?.equals(ca.der) && certs[1]?.equals(other.der));
});
