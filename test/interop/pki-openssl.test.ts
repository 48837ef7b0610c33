// openssl as the independent implementation: every key type as CA and as leaf passes
// `openssl verify -x509_strict`, `openssl x509 -text` shows the extensions we mean, `openssl req -verify`
// accepts our CSRs, and `openssl asn1parse` reads every structure we emit.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parsePemBlocks, toPem } from '../../src/pki/pem.js';
import { loadIssuer, type Issuer } from '../../src/pki/certificate.js';
import { buildCsr } from '../../src/pki/csr.js';
import { encodePrivateKeyPem, generateKeyPair, generateKeyPairAsync, spkiDer, type KeyPair, type KeySpec } from '../../src/pki/keys.js';
import { buildName, type Name } from '../../src/pki/name.js';
import { caProfile, ETCD_PROFILES, type Profile } from '../../src/pki/profile.js';
import { emptySans, parseHosts } from '../../src/pki/san.js';
import { issueCertificate } from '../../src/pki/issue.js';
import { findBinary, requireBinary, run, type RunResult } from '../helpers/components.js';
import { makeTempDir } from '../helpers/tmp.js';

const TYPES: { id: string; spec: KeySpec; sigAlg: string; keyText: RegExp }[] = [
  { id: 'rsa2048', spec: { algo: 'rsa', size: 2048 }, sigAlg: 'sha256WithRSAEncryption', keyText: /Public-Key: \(2048 bit\)/ },
  { id: 'p256', spec: { algo: 'ecdsa', size: 256 }, sigAlg: 'ecdsa-with-SHA256', keyText: /NIST CURVE: P-256/ },
  { id: 'p384', spec: { algo: 'ecdsa', size: 384 }, sigAlg: 'ecdsa-with-SHA384', keyText: /NIST CURVE: P-384/ },
  { id: 'p521', spec: { algo: 'ecdsa', size: 521 }, sigAlg: 'ecdsa-with-SHA512', keyText: /NIST CURVE: P-521/ },
  { id: 'ed25519', spec: { algo: 'ed25519', size: 0 }, sigAlg: 'ED25519', keyText: /ED25519 Public-Key/ },
];
const HOSTS = ['etcd-1.example.com', 'localhost', '127.0.0.1', '::1'];
const SAN_TEXT = 'DNS:etcd-1.example.com, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1'.replace(/\./g, '\\.');

let dir = '';
const keys = new Map<string, KeyPair>();
const cas = new Map<string, Issuer>();
const file = (name: string): string => path.join(dir, name);
const write = (name: string, der: Buffer, label = 'CERTIFICATE'): string => {
  writeFileSync(file(name), toPem(label, der));
  return file(name);
};
const openssl = (args: string[]): Promise<RunResult> => run('openssl', args, { cwd: dir });
/** `openssl x509 -text` output of a certificate file, with an exit-status check. */
async function x509Text(name: string): Promise<string> {
  const r = await openssl(['x509', '-in', name, '-noout', '-text']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}
const profileWithUrls: Profile = {
  ...ETCD_PROFILES.server,
  name: 'with-urls',
  crlUrls: ['http://pki.example.com/ca.crl'],
  ocspUrls: ['http://ocsp.example.com'],
  issuerUrls: ['http://pki.example.com/ca.crt'],
};

before(async () => {
  if (!findBinary('openssl')) return;
  dir = await makeTempDir('file', 'pki-openssl-');
  // One RSA key only (slow to make); it is used as a CA key and as a leaf key.
  const rsa = generateKeyPairAsync({ algo: 'rsa', size: 2048 });
  for (const t of TYPES) if (t.spec.algo !== 'rsa') keys.set(t.id, generateKeyPair(t.spec));
  keys.set('rsa2048', await rsa);
  for (const t of TYPES) {
    const key = keys.get(t.id) as KeyPair;
    const subject = buildName({ CN: `${t.id} CA`, names: [{ O: 'etcd-tls tests', OU: ['Org Unit 1', 'Org Unit 2'] }] });
    const { der } = issueCertificate({ subject, publicKey: spkiDer(key.publicKey), sans: emptySans() }, caProfile(), { selfSigned: true, privateKey: key.privateKey });
    write(`ca-${t.id}.pem`, der);
    cas.set(t.id, loadIssuer(toPem('CERTIFICATE', der), `ca-${t.id}.pem`, encodePrivateKeyPem(key.privateKey), `ca-${t.id}-key.pem`));
  }
  // Every CA signs a server certificate for every key type.
  for (const c of TYPES)
    for (const l of TYPES) {
      const key = keys.get(l.id) as KeyPair;
      const sans = parseHosts(HOSTS, 'hosts', 'error');
      const { der } = issueCertificate({ subject: buildName({ CN: 'etcd-1' }), publicKey: spkiDer(key.publicKey), sans }, ETCD_PROFILES.server, cas.get(c.id) as Issuer);
      write(`leaf-${l.id}-by-${c.id}.pem`, der);
    }
  for (const t of TYPES) {
    const subject = buildName({ CN: 'etcd-1', names: [{ C: 'US', O: 'Acme' }] });
    write(`${t.id}.csr`, buildCsr({ subject, sans: parseHosts(HOSTS, 'hosts', 'error') }, (keys.get(t.id) as KeyPair).privateKey), 'CERTIFICATE REQUEST');
  }
});

describe('openssl verify -x509_strict', () => {
  for (const c of TYPES) {
    test(`the ${c.id} CA: its server certificates for every key type verify (sslserver and sslclient purposes)`, async (t) => {
      if (!requireBinary(t, 'openssl')) return;
      const leaves = TYPES.map((l) => `leaf-${l.id}-by-${c.id}.pem`);
      for (const purpose of ['sslserver', 'sslclient']) {
        const r = await openssl(['verify', '-x509_strict', '-purpose', purpose, '-CAfile', `ca-${c.id}.pem`, ...leaves]);
        assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
        assert.deepEqual(r.stdout.trim().split('\n'), leaves.map((l) => `${l}: OK`));
      }
    });
  }

  test('a certificate does not verify against another CA (the check can fail)', async (t) => {
    if (!requireBinary(t, 'openssl')) return;
    const r = await openssl(['verify', '-x509_strict', '-CAfile', 'ca-p256.pem', 'leaf-p256-by-p384.pem']);
    assert.notEqual(r.code, 0);
    assert.match(`${r.stdout}${r.stderr}`, /unable to get local issuer certificate/);
  });

  test('root → intermediate (pathlen 0) → client certificate verifies as a chain', async (t) => {
    if (!requireBinary(t, 'openssl')) return;
    const root = cas.get('p384') as Issuer;
    const subKey = keys.get('ed25519') as KeyPair;
    const inter = issueCertificate(
      { subject: buildName({ CN: 'intermediate' }), publicKey: spkiDer(subKey.publicKey), sans: emptySans(), ca: {} },
      caProfile(8760 * 3_600_000, 0),
      root,
    );
    const interIssuer = loadIssuer(toPem('CERTIFICATE', inter.der), 'inter.pem', encodePrivateKeyPem(subKey.privateKey), 'inter-key.pem');
    const client = issueCertificate(
      { subject: buildName({ CN: 'root', names: [{ O: 'system:masters' }] }), publicKey: spkiDer((keys.get('rsa2048') as KeyPair).publicKey), sans: emptySans() },
      ETCD_PROFILES.client,
      interIssuer,
    );
    write('inter.pem', inter.der);
    write('client-by-inter.pem', client.der);
    const r = await openssl(['verify', '-x509_strict', '-purpose', 'sslclient', '-CAfile', 'ca-p384.pem', '-untrusted', 'inter.pem', 'client-by-inter.pem']);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const text = await x509Text('inter.pem');
    assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:TRUE, pathlen:0/);
    // A client certificate is not a server certificate.
    const wrong = await openssl(['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', 'ca-p384.pem', '-untrusted', 'inter.pem', 'client-by-inter.pem']);
    assert.notEqual(wrong.code, 0);
  });

  test('a certificate with an empty subject and a critical SAN verifies', async (t) => {
    if (!requireBinary(t, 'openssl')) return;
    const key = keys.get('p256') as KeyPair;
    const { der } = issueCertificate({ subject: [] as Name, publicKey: spkiDer(key.publicKey), sans: parseHosts(['etcd-1'], 'hosts', 'error') }, ETCD_PROFILES.peer, cas.get('p256') as Issuer);
    write('no-subject.pem', der);
    const r = await openssl(['verify', '-x509_strict', '-CAfile', 'ca-p256.pem', 'no-subject.pem']);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(await x509Text('no-subject.pem'), /X509v3 Subject Alternative Name: critical\n\s+DNS:etcd-1\n/);
  });
});

describe('openssl x509 -text', () => {
  for (const c of TYPES) {
    test(`${c.id} CA: key, ${c.sigAlg}, KU certSign+cRLSign critical, BC CA:TRUE critical, SKI = AKI, no EKU`, async (t) => {
      if (!requireBinary(t, 'openssl')) return;
      const text = await x509Text(`ca-${c.id}.pem`);
      assert.match(text, c.keyText);
      assert.match(text, new RegExp(`Signature Algorithm: ${c.sigAlg}`));
      assert.match(text, /Subject: O = etcd-tls tests, OU = Org Unit 1, OU = Org Unit 2, CN = \w+ CA/);
      assert.match(text, /X509v3 Key Usage: critical\n\s+Certificate Sign, CRL Sign\n/);
      assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:TRUE\n/);
      assert.doesNotMatch(text, /Extended Key Usage/);
      const ski = /X509v3 Subject Key Identifier: \n\s+([0-9A-F:]+)\n/.exec(text)?.[1];
      const aki = /X509v3 Authority Key Identifier: \n\s+(?:keyid:)?([0-9A-F:]+)\n/.exec(text)?.[1];
      assert.ok(ski && ski.length === 59, text);
      assert.equal(aki, ski);
    });
  }

  for (const [i, l] of TYPES.entries()) {
    const c = TYPES[(i + 1) % TYPES.length] as (typeof TYPES)[number];
    test(`${l.id} server certificate from the ${c.id} CA: KU, EKU, BC, SKI, AKI = CA SKI, SANs`, async (t) => {
      if (!requireBinary(t, 'openssl')) return;
      const text = await x509Text(`leaf-${l.id}-by-${c.id}.pem`);
      const caText = await x509Text(`ca-${c.id}.pem`);
      assert.match(text, l.keyText);
      assert.match(text, new RegExp(`Signature Algorithm: ${c.sigAlg}`));
      assert.match(text, /Subject: CN = etcd-1\n/);
      assert.match(text, /X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment\n/);
      assert.match(text, /X509v3 Extended Key Usage: \n\s+TLS Web Server Authentication, TLS Web Client Authentication\n/);
      assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:FALSE\n/);
      assert.match(text, /X509v3 Subject Key Identifier: \n\s+[0-9A-F:]{59}\n/);
      assert.match(text, new RegExp(`X509v3 Subject Alternative Name: \\n\\s+${SAN_TEXT}\\n`));
      const caSki = /X509v3 Subject Key Identifier: \n\s+([0-9A-F:]+)\n/.exec(caText)?.[1];
      const aki = /X509v3 Authority Key Identifier: \n\s+(?:keyid:)?([0-9A-F:]+)\n/.exec(text)?.[1];
      assert.equal(aki, caSki);
      assert.match(text, /Serial Number:\n\s+([0-9a-f]{2}:){19}[0-9a-f]{2}\n/);
    });
  }

  test('a profile with CRL and AIA URLs: openssl shows them', async (t) => {
    if (!requireBinary(t, 'openssl')) return;
    const key = keys.get('p256') as KeyPair;
    const { der } = issueCertificate({ subject: buildName({ CN: 'etcd-1' }), publicKey: spkiDer(key.publicKey), sans: emptySans() }, profileWithUrls, cas.get('p256') as Issuer);
    write('with-urls.pem', der);
    const text = await x509Text('with-urls.pem');
    assert.match(text, /X509v3 CRL Distribution Points: \n\s+Full Name:\n\s+URI:http:\/\/pki\.example\.com\/ca\.crl\n/);
    assert.match(text, /Authority Information Access: \n\s+OCSP - URI:http:\/\/ocsp\.example\.com\n\s+CA Issuers - URI:http:\/\/pki\.example\.com\/ca\.crt\n/);
    const r = await openssl(['verify', '-x509_strict', '-CAfile', 'ca-p256.pem', 'with-urls.pem']);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  });
});

describe('openssl req -verify', () => {
  for (const l of TYPES) {
    test(`${l.id}: openssl accepts the CSR's signature and reads its subject and SANs`, async (t) => {
      if (!requireBinary(t, 'openssl')) return;
      const r = await openssl(['req', '-in', `${l.id}.csr`, '-noout', '-verify', '-text']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(`${r.stdout}${r.stderr}`, /verify OK/);
      assert.match(r.stdout, /Subject: C = US, O = Acme, CN = etcd-1\n/);
      assert.match(r.stdout, new RegExp(`X509v3 Subject Alternative Name: \\n\\s+${SAN_TEXT}\\n`));
      assert.match(r.stdout, l.keyText);
    });
  }

  test('a CA CSR shows CA:TRUE with its pathlen', async (t) => {
    if (!requireBinary(t, 'openssl')) return;
    const key = keys.get('p384') as KeyPair;
    write('ca.csr', buildCsr({ subject: buildName({ CN: 'My own CA' }), sans: emptySans(), ca: { pathLen: 1 } }, key.privateKey), 'CERTIFICATE REQUEST');
    const r = await openssl(['req', '-in', 'ca.csr', '-noout', '-verify', '-text']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /X509v3 Basic Constraints: critical\n\s+CA:TRUE, pathlen:1\n/);
  });

  test('openssl rejects a CSR whose signature was altered (the check can fail)', async (t) => {
    if (!requireBinary(t, 'openssl')) return;
    const key = keys.get('p256') as KeyPair;
    const der = buildCsr({ subject: buildName({ CN: 'x' }), sans: emptySans() }, key.privateKey);
    der[der.length - 1] = (der[der.length - 1] as number) ^ 1;
    write('bad.csr', der, 'CERTIFICATE REQUEST');
    const r = await openssl(['req', '-in', 'bad.csr', '-noout', '-verify']);
    // OpenSSL 3.0 exits 0 here and says so only in its output.
    assert.match(`${r.stdout}${r.stderr}`, /verify failure/);
    assert.doesNotMatch(`${r.stdout}${r.stderr}`, /verify OK/);
  });
});

describe('openssl asn1parse', () => {
  test('parses every certificate and CSR written above, to the last byte', async (t) => {
    if (!requireBinary(t, 'openssl')) return;
    const names = [
      ...TYPES.map((c) => `ca-${c.id}.pem`),
      ...TYPES.map((l, i) => `leaf-${l.id}-by-${(TYPES[(i + 2) % TYPES.length] as (typeof TYPES)[number]).id}.pem`),
      ...TYPES.map((l) => `${l.id}.csr`),
    ];
    for (const name of names) {
      const r = await openssl(['asn1parse', '-in', name]);
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      assert.doesNotMatch(r.stdout, /Error/, name);
      const top = /^\s*0:d=0\s+hl=(\d+) l=\s*(\d+) cons: SEQUENCE/.exec(r.stdout);
      const der = parsePemBlocks(readFileSync(file(name), 'utf8'))[0]?.der;
      assert.ok(top && der, name);
      assert.equal(Number(top[1]) + Number(top[2]), der.length, `${name}: the outer SEQUENCE spans the whole file`);
    }
  });

  test('each extension value of a leaf parses on its own (-strparse)', async (t) => {
    if (!requireBinary(t, 'openssl')) return;
    write('urls-asn1.pem', issueCertificate({ subject: buildName({ CN: 'e' }), publicKey: spkiDer((keys.get('ed25519') as KeyPair).publicKey), sans: parseHosts([...HOSTS, 'a@b.example', 'spiffe://x/y'], 'hosts', 'error') }, profileWithUrls, cas.get('ed25519') as Issuer).der);
    const r = await openssl(['asn1parse', '-in', 'urls-asn1.pem']);
    assert.equal(r.code, 0, r.stderr);
    const offsets = [...r.stdout.matchAll(/^\s*(\d+):d=\d+\s+hl=\d+ l=\s*\d+ prim: OCTET STRING/gm)].map((m) => m[1] as string);
    assert.equal(offsets.length, 8, r.stdout);
    for (const off of offsets) {
      const sub = await openssl(['asn1parse', '-in', 'urls-asn1.pem', '-strparse', off]);
      assert.equal(sub.code, 0, `offset ${off}: ${sub.stderr}`);
      assert.doesNotMatch(sub.stdout, /Error/);
    }
  });
});
