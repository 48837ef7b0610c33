// Issued bytes pinned: fixed keys (Ed25519 signs deterministically), a fixed clock and random source, and
// the SHA-256 of every certificate as the encoder wrote it before its hot path was rewritten to write
// the TBS into one buffer. Any change to an output byte, however small, fails here. The cases cover the
// encoder's branches: long-form lengths, every SAN kind, UTF8String and IA5String names, a DER subject,
// the optional extensions, GeneralizedTime, serial edge bytes, CA and intermediate certificates.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import { children, readElement, type Element } from '../../src/pki/der.js';
import { toPem } from '../../src/pki/pem.js';
import { encodeExtension, parseUsages, subjectAltName } from '../../src/pki/extensions.js';
import { encodePrivateKeyPem, spkiDer } from '../../src/pki/keys.js';
import { buildName, encodeName, type Name } from '../../src/pki/name.js';
import { caProfile, ETCD_PROFILES, type Profile } from '../../src/pki/profile.js';
import { emptySans, parseHosts, type SubjectAltNames } from '../../src/pki/san.js';
import { loadIssuer, verifySignedBy, type Issuer } from '../../src/pki/certificate.js';
import { issueCertificate, type Clock, type RandomSource } from '../../src/pki/issue.js';

const HOUR = 3_600_000;
const CLOCK: Clock = { now: () => new Date('2025-03-04T10:17:31.500Z') };
const counting: RandomSource = (n) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0xff));
const constant =
  (byte: number): RandomSource =>
  (n) =>
    Buffer.alloc(n, byte);

/** An Ed25519 key from a fixed seed (PKCS#8 is a fixed prefix and the seed). */
const ed25519 = (seedByte: number): KeyObject =>
  createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.alloc(32, seedByte)]), format: 'der', type: 'pkcs8' });
/** A P-256 key from a fixed scalar (SEC1 without the public key: OpenSSL computes it). */
const p256 = (scalarByte: number): KeyObject =>
  createPrivateKey({ key: Buffer.concat([Buffer.from('30310201010420', 'hex'), Buffer.alloc(32, scalarByte), Buffer.from('a00a06082a8648ce3d030107', 'hex')]), format: 'der', type: 'sec1' });

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const tbsOf = (der: Buffer): Buffer => {
  const [tbs] = children(der, readElement(der, 0)) as [Element];
  return der.subarray(tbs.start, tbs.end);
};

function selfSigned(key: KeyObject, subject: Name, profile: Profile, random: RandomSource = counting): { der: Buffer; issuer: Issuer } {
  const { der } = issueCertificate({ subject, publicKey: spkiDer(key), sans: emptySans() }, profile, { selfSigned: true, privateKey: key }, CLOCK, random);
  return { der, issuer: loadIssuer(toPem('CERTIFICATE', der), 'ca.pem', encodePrivateKeyPem(key), 'ca-key.pem') };
}

const BLOG_CA_NAME = buildName({
  CN: 'My own CA',
  names: [{ C: 'US', L: 'San Francisco', O: 'My Company Name', ST: 'San Francisco', OU: ['Org Unit 1', 'Org Unit 2'] }],
});
const edCa = selfSigned(ed25519(7), BLOG_CA_NAME, caProfile());
const leafKey = spkiDer(p256(9));
const edLeafKey = spkiDer(ed25519(3));
// caProfile's default 5 years would end before the 2050 window of the fixed-window case: it has its own CA.
const longCa = selfSigned(ed25519(11), buildName({ CN: 'long CA' }), caProfile(40 * 8760 * HOUR));
const manyNames = Array.from({ length: 40 }, (_, i) => `member-${i}.etcd.cluster-${i % 7}.example.internal`);

interface Case {
  what: string;
  der: () => Buffer;
  sha256: string;
}

const leaf = (subject: Name | Buffer, sans: SubjectAltNames, profile: Profile, random: RandomSource = counting, publicKey = leafKey, issuer = edCa.issuer): Buffer =>
  issueCertificate({ subject, publicKey, sans }, profile, issuer, CLOCK, random).der;

const CASES: Case[] = [
  { what: 'self-signed CA, the blog CA name (six RDNs, two OUs)', der: () => edCa.der, sha256: '519022b3d1a545ca21c4ef70d0bc333e68b9fe29fe80915dc2eccaf816dd93e0' },
  {
    what: 'self-signed CA with pathlen 1, then an intermediate under it',
    der: () => {
      const root = selfSigned(ed25519(8), buildName({ CN: 'root' }), caProfile(10 * 8760 * HOUR, 1), constant(0x42));
      return issueCertificate({ subject: buildName({ CN: 'intermediate' }), publicKey: edLeafKey, sans: emptySans(), ca: {} }, caProfile(5 * 8760 * HOUR, 0), root.issuer, CLOCK, counting).der;
    },
    sha256: '54a9552409e8fdcf2ee9852370f7bf7f2d0c170a1bb9c54e3824a7bf56d9d354',
  },
  {
    what: 'server leaf, 5 SANs as bench/issue.ts, P-256 key',
    der: () => leaf(buildName({ CN: 'member1' }), parseHosts(['member1', 'localhost', '10.0.0.1', '127.0.0.1', '::1'], 'hosts', 'error'), ETCD_PROFILES.server),
    sha256: '94789e4214ea0dd1c9914f40cc0a7910d9377078585a6241bc36b496b77d66ab',
  },
  {
    what: 'peer leaf, every SAN kind, Ed25519 key',
    der: () =>
      leaf(
        buildName({ CN: 'member2', names: [{ O: 'etcd' }] }),
        parseHosts(['member2', '*.etcd.example.com', 'ops@example.com', '2001:db8::8:800:200c:417a', '::ffff:1.2.3.4', 'spiffe://cluster.local/ns/etcd/sa/etcd', '10.1.2.3'], 'hosts', 'error'),
        ETCD_PROFILES.peer,
        counting,
        edLeafKey,
      ),
    sha256: '8e834382401fe8a05347797a1f528aaab7bddcdac07f28c9b185e4a703daa1a6',
  },
  { what: 'client leaf, no SANs', der: () => leaf(buildName({ CN: 'kube-apiserver', names: [{ O: 'system:masters' }] }), emptySans(), ETCD_PROFILES.client), sha256: '3a1e5b0ff9f2bc19774463227883961cbf62f0a97f833723a9fb99df2bd627c0' },
  { what: 'empty subject: critical SAN', der: () => leaf(buildName({}), parseHosts(['etcd-0'], 'hosts', 'error'), ETCD_PROFILES.server), sha256: '038d5014d7eb26766cebc5b4e63160d355db3c79385a01356046cf2fd09f71b2' },
  {
    what: 'UTF8String, IA5String (E) and serialNumber attributes',
    der: () => leaf(buildName({ CN: 'Jürgen_Ünit', serialNumber: 'SN 42', names: [{ C: 'DE', O: 'Bücher & Co', E: 'ops@example.com' }] }), emptySans(), ETCD_PROFILES.client),
    sha256: '8464549f9e1a8e5db000bf04919a91f370f67b1fe4d669f36c723be8061d81ed',
  },
  {
    what: 'subject given as DER (from a CSR), kept byte for byte',
    der: () => leaf(encodeName(buildName({ CN: 'from-csr', names: [{ OU: ['b', 'a'] }] })), parseHosts(['from-csr'], 'hosts', 'error'), ETCD_PROFILES.peer),
    sha256: '03cf648de75ec4993b287751f6dcf45344b3c625c7fa0fc6348ef0315d38f811',
  },
  {
    what: '40 DNS names: long-form lengths in the SAN, the extensions and the TBS',
    der: () => leaf(buildName({ CN: 'many' }), parseHosts(manyNames, 'hosts', 'error'), ETCD_PROFILES.server),
    sha256: '6943da8e51349677b771fc884f407145c3be916ccc16000e3e7089db361676f3',
  },
  {
    what: 'CRL, OCSP, issuer URLs, policies, ocsp no check, a fixed window into GeneralizedTime',
    der: () =>
      leaf(buildName({ CN: 'full' }), parseHosts(['full'], 'hosts', 'error'), {
        name: 'full',
        usages: parseUsages(['signing', 'key encipherment', 'server auth', 'ocsp signing']),
        expiryMs: 8760 * HOUR,
        backdateMs: 5 * 60_000,
        notBefore: new Date('2025-01-01T00:00:00Z'),
        notAfter: new Date('2050-06-01T12:00:00Z'),
        crlUrls: ['http://crl.example/ca.crl'],
        ocspUrls: ['http://ocsp.example'],
        issuerUrls: ['http://ca.example/ca.crt'],
        ocspNoCheck: true,
        policies: [{ id: '2.23.140.1.2.1' }, { id: '1.3.6.1.4.1.44947.1.1.1', qualifiers: [{ type: 'id-qt-cps', value: 'http://cps.example' }, { type: 'id-qt-unotice', value: 'Nötice' }] }],
      }, counting, leafKey, longCa.issuer),
    sha256: 'd068848ceb872eb1cac66ee309b14aa1cdfa4455c251d0c27ea64b01bfc23508',
  },
  { what: 'serial from 0xff bytes (top bit cleared)', der: () => leaf(buildName({ CN: 's' }), emptySans(), ETCD_PROFILES.client, constant(0xff)), sha256: '71633c01d7a232a23bd25bf1abd317cf8812b41e62b52ea93e313abdeee37677' },
  { what: 'serial from 0x00 bytes (leading byte made 0x01)', der: () => leaf(buildName({ CN: 's' }), emptySans(), ETCD_PROFILES.client, constant(0x00)), sha256: 'd1aeb9b41f84802de3800e6a7d2301c476dbe4e6f928660144ae4b28a5165475' },
];

describe('issue: certificate bytes pinned (Ed25519 CA, fixed clock and random source)', () => {
  for (const c of CASES) {
    test(c.what, () => {
      const der = c.der();
      if (process.env.PIN_PRINT) console.log(JSON.stringify(c.what), sha256(der));
      assert.equal(sha256(der), c.sha256, `${c.what}: ${der.toString('hex')}`);
    });
  }
});

test('issue: an ECDSA P-256 CA signs the same TBS bytes, and the signature verifies', () => {
  const ca = selfSigned(p256(5), buildName({ CN: 'ecdsa CA' }), caProfile());
  const der = issueCertificate(
    { subject: buildName({ CN: 'member1' }), publicKey: leafKey, sans: parseHosts(['member1', '10.0.0.1', '::1'], 'hosts', 'error') },
    ETCD_PROFILES.server,
    ca.issuer,
    CLOCK,
    counting,
  ).der;
  if (process.env.PIN_PRINT) console.log('"ecdsa tbs"', sha256(tbsOf(der)), sha256(tbsOf(ca.der)));
  assert.deepEqual([sha256(tbsOf(der)), sha256(tbsOf(ca.der))], [
    '73089dcb138d30ebaa9a87b03fb4ab41b5656d053b3abede67d5b637d9b448e4',
    '6af1efd24ee561551633244eeb3e09b52f5b7c43bdc66b56a5a3d6040f0517d1',
  ]);
  assert.ok(verifySignedBy(der, ca.issuer.cert.spki));
});

test('SAN extension and names pinned outside a certificate', () => {
  const sans = parseHosts(['a', 'b.example', '10.0.0.1', '::1', 'x@y.example', 'urn://q/r'], 'hosts', 'error');
  const got = [
    encodeExtension(subjectAltName(sans, false)).toString('hex'),
    encodeExtension(subjectAltName(sans, true)).toString('hex'),
    encodeName(BLOG_CA_NAME).toString('hex'),
    encodeName([]).toString('hex'),
  ];
  if (process.env.PIN_PRINT) console.log(JSON.stringify(got));
  assert.deepEqual(got, [
    '30470603551d110440303e8201618209622e6578616d706c65810b7840792e6578616d706c6587040a000001871000000000000000000000000000000001860975726e3a2f2f712f72',
    '304a0603551d110101ff0440303e8201618209622e6578616d706c65810b7840792e6578616d706c6587040a000001871000000000000000000000000000000001860975726e3a2f2f712f72',
    '308195310b3009060355040613025553311630140603550408130d53616e204672616e636973636f311630140603550407130d53616e204672616e636973636f31183016060355040a130f4d7920436f6d70616e79204e616d6531133011060355040b130a4f726720556e6974203131133011060355040b130a4f726720556e6974203231123010060355040313094d79206f776e204341',
    '3000',
  ]);
});
