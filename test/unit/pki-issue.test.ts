// Issuing: determinism under a fixed clock and random source, the validity window, serials, the
// policy errors, the extensions of CA and leaf certificates, and loadIssuer's refusals.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { children, explicit, oid, readElement, sequence, setOf, smallInteger, utf8String, type Element } from '../../src/pki/der.js';
import { toPem } from '../../src/pki/pem.js';
import { keyIdentifier, parseUsages } from '../../src/pki/extensions.js';
import { encodePrivateKeyPem, generateKeyPair, spkiDer, type KeyPair, type KeySpec } from '../../src/pki/keys.js';
import { buildName, encodeName, type Name } from '../../src/pki/name.js';
import { caProfile, ETCD_PROFILES, type Profile } from '../../src/pki/profile.js';
import { emptySans, parseHosts, type SubjectAltNames } from '../../src/pki/san.js';
import { loadIssuer, parseCertificate, subjectPublicKeyBits, verifySignedBy, type Issuer, type ParsedCertificate } from '../../src/pki/certificate.js';
import { expectedLifetimeMs, issueCertificate, systemRandom, validityWindow, type CertificateRequest, type Clock, type RandomSource } from '../../src/pki/issue.js';
import { rejects } from '../helpers/assertions.js';


const HOUR = 3_600_000;
const at = (iso: string): Clock => ({ now: () => new Date(iso) });
const CLOCK = at('2025-03-04T10:17:31.500Z');
/** A random source that repeats one byte: serials become predictable. */
const constant =
  (byte: number): RandomSource =>
  (n) =>
    Buffer.alloc(n, byte);
const counting: RandomSource = (n) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0xff));

const ED = { algo: 'ed25519', size: 0 } as const satisfies KeySpec;
const P256 = { algo: 'ecdsa', size: 256 } as const satisfies KeySpec;

function request(key: KeyPair, subject: Name | Buffer, sans: SubjectAltNames = emptySans(), ca?: { pathLen?: number }): CertificateRequest {
  return { subject, publicKey: spkiDer(key.publicKey), sans, ...(ca ? { ca } : {}) };
}

interface TestCa {
  key: KeyPair;
  der: Buffer;
  issuer: Issuer;
}

function selfSignedCa(spec: KeySpec, profile: Profile = caProfile(), clock: Clock = CLOCK, cn = 'Test CA'): TestCa {
  const key = generateKeyPair(spec);
  const { der } = issueCertificate(request(key, buildName({ CN: cn })), profile, { selfSigned: true, privateKey: key.privateKey }, clock, counting);
  const issuer = loadIssuer(toPem('CERTIFICATE', der), 'ca.pem', encodePrivateKeyPem(key.privateKey), 'ca-key.pem');
  return { key, der, issuer };
}

const ext = (view: ParsedCertificate, id: string): { oid: string; critical: boolean } | undefined => view.extensions.find((e) => e.oid === id);
const tbsOf = (der: Buffer): string => {
  const [tbs] = children(der, readElement(der, 0));
  return der.subarray((tbs as Element).start, (tbs as Element).end).toString('hex');
};

// Made a year before CLOCK: the validity tests issue at instants before CLOCK, and a CA not yet valid refuses.
const ca = selfSignedCa(P256, caProfile(), at('2024-03-04T00:00:00Z'));
const edCa = selfSignedCa(ED);

describe('issue: determinism', () => {
  test('Ed25519: the same inputs give the same bytes', () => {
    const leaf = generateKeyPair(ED);
    const req = request(leaf, buildName({ CN: 'etcd-1' }), parseHosts(['etcd-1', '10.0.0.1'], 'hosts', 'error'));
    const a = issueCertificate(req, ETCD_PROFILES.server, edCa.issuer, CLOCK, counting);
    const b = issueCertificate(req, ETCD_PROFILES.server, edCa.issuer, CLOCK, counting);
    assert.equal(a.der.toString('hex'), b.der.toString('hex'));
    assert.deepEqual(a, b);
  });

  test('ECDSA: the signed part is the same bytes (the signature itself is randomised)', () => {
    const leaf = generateKeyPair(P256);
    const req = request(leaf, buildName({ CN: 'etcd-1' }));
    const a = issueCertificate(req, ETCD_PROFILES.peer, ca.issuer, CLOCK, counting);
    const b = issueCertificate(req, ETCD_PROFILES.peer, ca.issuer, CLOCK, counting);
    assert.equal(tbsOf(a.der), tbsOf(b.der));
    assert.ok(verifySignedBy(a.der, ca.issuer.cert.spki) && verifySignedBy(b.der, ca.issuer.cert.spki));
  });

  test('a different random source gives a different serial and nothing else', () => {
    const leaf = generateKeyPair(ED);
    const req = request(leaf, buildName({ CN: 'x' }));
    const a = issueCertificate(req, ETCD_PROFILES.client, edCa.issuer, CLOCK, constant(0x11));
    const b = issueCertificate(req, ETCD_PROFILES.client, edCa.issuer, CLOCK, constant(0x22));
    assert.notEqual(a.serialHex, b.serialHex);
    assert.equal(a.der.length, b.der.length);
  });
});

describe('issue: validity and serial', () => {
  const windows: [string, string, string][] = [
    ['2025-03-04T10:17:31.500Z', '2025-03-04T10:13:00.000Z', 'rounds up from :31.5'],
    ['2025-03-04T10:17:30.000Z', '2025-03-04T10:13:00.000Z', 'rounds half up'],
    ['2025-03-04T10:17:29.999Z', '2025-03-04T10:12:00.000Z', 'rounds down below :30'],
    ['2025-03-04T00:02:00.000Z', '2025-03-03T23:57:00.000Z', 'crosses midnight'],
  ];
  for (const [now, notBefore, why] of windows) {
    test(`now ${now}: notBefore ${notBefore} (${why}), notAfter = notBefore + 8760h`, () => {
      const leaf = generateKeyPair(P256);
      const issued = issueCertificate(request(leaf, buildName({ CN: 'c' })), ETCD_PROFILES.client, ca.issuer, at(now), counting);
      assert.equal(issued.notBefore.toISOString(), notBefore);
      assert.equal(issued.notAfter.getTime() - issued.notBefore.getTime(), 8760 * HOUR);
      const core = parseCertificate(issued.der, 'leaf.pem');
      assert.equal(core.notBefore.toISOString(), notBefore);
      assert.equal(core.notAfter.toISOString(), issued.notAfter.toISOString());
    });
  }

  test("a profile's fixed not_before / not_after each replace their half of the window", () => {
    const nb = new Date('2025-01-01T00:00:00Z');
    const na = new Date('2025-06-01T00:00:00Z');
    const base = ETCD_PROFILES.client;
    assert.deepEqual(validityWindow({ ...base, notBefore: nb, notAfter: na }, CLOCK.now()), { notBefore: nb, notAfter: na });
    assert.deepEqual(validityWindow({ ...base, notAfter: na }, CLOCK.now()), { notBefore: new Date('2025-03-04T10:13:00Z'), notAfter: na });
    assert.deepEqual(validityWindow({ ...base, notBefore: nb }, CLOCK.now()), { notBefore: nb, notAfter: new Date(nb.getTime() + 8760 * HOUR) });
  });

  test('an inverted fixed window is BAD_VALIDITY', () => {
    const profile = { ...ETCD_PROFILES.client, notBefore: new Date('2025-06-01T00:00:00Z'), notAfter: new Date('2025-01-01T00:00:00Z') };
    rejects(
      () => issueCertificate(request(generateKeyPair(P256), buildName({ CN: 'c' })), profile, ca.issuer, CLOCK),
      'BAD_VALIDITY',
      /not_after 2025-01-01T00:00:00Z is not after not_before 2025-06-01T00:00:00Z/,
    );
  });

  const serials: [number, string][] = [
    [0xff, '7f' + 'ff'.repeat(19)],
    [0x80, '01' + '80'.repeat(19)],
    [0x00, '01' + '00'.repeat(19)],
    [0x42, '42'.repeat(20)],
  ];
  for (const [byte, want] of serials) {
    test(`random bytes 0x${byte.toString(16)}: serial ${want.slice(0, 6)}…, 20 octets, positive`, () => {
      const issued = issueCertificate(request(generateKeyPair(ED), buildName({ CN: 's' })), ETCD_PROFILES.client, edCa.issuer, CLOCK, constant(byte));
      assert.equal(issued.serialHex, want);
      // The INTEGER's content is exactly these 20 octets: no sign byte, no leading zero.
      assert.equal(parseCertificate(issued.der, 'leaf.pem').serialHex, want);
      assert.equal(parseCertificate(issued.der).serialDecimal, BigInt(`0x${want}`).toString());
    });
  }

  test('the random source is asked for 20 bytes', () => {
    const asked: number[] = [];
    issueCertificate(request(generateKeyPair(ED), buildName({ CN: 's' })), ETCD_PROFILES.client, edCa.issuer, CLOCK, (n) => {
      asked.push(n);
      return Buffer.alloc(n, 1);
    });
    assert.deepEqual(asked, [20]);
  });
});

describe('issue: policy errors', () => {
  test('OUTLIVES_CA names both dates and the CA file', () => {
    const shortCa = selfSignedCa(P256, caProfile(8760 * HOUR));
    const profile = { ...ETCD_PROFILES.server, expiryMs: 2 * 8760 * HOUR };
    rejects(
      () => issueCertificate(request(generateKeyPair(P256), buildName({ CN: 'x' })), profile, shortCa.issuer, CLOCK),
      'OUTLIVES_CA',
      /^the certificate would be valid until 2027-03-04T10:13:00Z, after its CA ca\.pem expires at 2026-03-04T10:13:00Z;/,
    );
  });

  test('regression: a leaf is not issued from a CA that is not valid yet (CA_NOT_YET_VALID names the CA and both dates)', () => {
    const future = selfSignedCa(P256, caProfile(), at('2025-03-04T12:00:00Z'));
    rejects(
      () => issueCertificate(request(generateKeyPair(P256), buildName({ CN: 'x' })), ETCD_PROFILES.server, future.issuer, CLOCK),
      'CA_NOT_YET_VALID',
      /^ca\.pem: is not valid until 2025-03-04T11:55:00Z \(now 2025-03-04T10:17:31\.500Z\)/,
    );
  });

  test('regression: a short-lived leaf ("5m") is valid for 5 minutes from now (cfssl\'s window ended it at issuance)', () => {
    const issued = issueCertificate(request(generateKeyPair(P256), buildName({ CN: 'x' })), { ...ETCD_PROFILES.client, expiryMs: 5 * 60_000 }, ca.issuer, CLOCK);
    assert.equal(issued.notAfter.toISOString(), '2025-03-04T10:22:31.000Z');
    assert.equal(issued.notBefore.toISOString(), '2025-03-04T10:17:01.000Z');
    assert.equal(expectedLifetimeMs({ expiryMs: 5 * 60_000, backdateMs: 5 * 60_000 }), 5.5 * 60_000);
  });

  test('regression: a window ending after 9999-12-31 is BAD_VALIDITY, not an internal encoder error', () => {
    rejects(
      () => {
        const key = generateKeyPair(P256);
        return issueCertificate(request(key, buildName({ CN: 'x' })), caProfile(8000 * 8760 * HOUR), { selfSigned: true, privateKey: key.privateKey }, CLOCK);
      },
      'BAD_VALIDITY',
      /^profile ca: the certificate would be valid until the year 10\d\d\d, after 9999-12-31/,
    );
  });

  test('a leaf ending exactly when its CA ends is allowed', () => {
    const shortCa = selfSignedCa(P256, caProfile(8760 * HOUR));
    const issued = issueCertificate(request(generateKeyPair(P256), buildName({ CN: 'x' })), ETCD_PROFILES.server, shortCa.issuer, CLOCK);
    assert.equal(issued.notAfter.getTime(), shortCa.issuer.cert.notAfter.getTime());
  });

  test('CA_NOT_ALLOWED: a CA requested under a profile without ca_constraint (signed or self-signed)', () => {
    const key = generateKeyPair(P256);
    const req = request(key, buildName({ CN: 'sub CA' }), emptySans(), {});
    rejects(() => issueCertificate(req, ETCD_PROFILES.server, ca.issuer, CLOCK), 'CA_NOT_ALLOWED', /^profile server: does not allow issuing CA certificates/);
    rejects(
      () => issueCertificate(req, ETCD_PROFILES.server, { selfSigned: true, privateKey: key.privateKey }, CLOCK),
      'CA_NOT_ALLOWED',
      /profile server/,
    );
  });

  test('CA_NOT_ALLOWED: an issuer with pathlen 0 may not issue a CA', () => {
    const zero = selfSignedCa(P256, caProfile(43800 * HOUR, 0));
    assert.equal(zero.issuer.cert.pathLen, 0);
    const req = request(generateKeyPair(P256), buildName({ CN: 'sub CA' }), emptySans(), {});
    rejects(() => issueCertificate(req, caProfile(8760 * HOUR), zero.issuer, CLOCK), 'CA_NOT_ALLOWED', /^ca\.pem: has pathlen 0/);
  });

  test('an issuer with pathlen 1 issues an intermediate that can itself issue leaves', () => {
    const root = selfSignedCa(P256, caProfile(43800 * HOUR, 1));
    const subKey = generateKeyPair(P256);
    const sub = issueCertificate(request(subKey, buildName({ CN: 'sub CA' }), emptySans(), {}), caProfile(8760 * HOUR, 0), root.issuer, CLOCK);
    const subIssuer = loadIssuer(toPem('CERTIFICATE', sub.der), 'sub.pem', encodePrivateKeyPem(subKey.privateKey), 'sub-key.pem');
    assert.equal(subIssuer.cert.isCA, true);
    assert.equal(subIssuer.cert.pathLen, 0);
    const leaf = issueCertificate(request(generateKeyPair(P256), buildName({ CN: 'l' })), ETCD_PROFILES.client, subIssuer, CLOCK);
    assert.ok(verifySignedBy(leaf.der, subIssuer.cert.spki));
    assert.equal(parseCertificate(leaf.der).authorityKeyId, parseCertificate(sub.der).subjectKeyId);
  });

  describe('NAME_NOT_ALLOWED', () => {
    const profile: Profile = { ...ETCD_PROFILES.server, name: 'restricted', nameWhitelist: /^(etcd-\d+|[a-z0-9.-]+\.etcd\.local|ops@etcd\.local|spiffe:\/\/etcd\/.*)$/ };
    const key = generateKeyPair(P256);
    const hosts = (h: string[]): SubjectAltNames => parseHosts(h, 'hosts', 'error');

    test('names that match, and IP SANs (never checked, as in cfssl), are allowed', () => {
      const req = request(key, buildName({ CN: 'etcd-1' }), hosts(['a.etcd.local', '10.9.9.9', 'ops@etcd.local', 'spiffe://etcd/x']));
      assert.ok(issueCertificate(req, profile, ca.issuer, CLOCK).der.length > 0);
    });

    const bad: [string, Name, string[]][] = [
      ['the CN', buildName({ CN: 'evil' }), []],
      ['a DNS SAN', buildName({ CN: 'etcd-1' }), ['a.etcd.local', 'evil.example.com']],
      ['an email SAN', buildName({ CN: 'etcd-1' }), ['root@example.com']],
      ['a URI SAN', buildName({ CN: 'etcd-1' }), ['spiffe://other/x']],
    ];
    for (const [what, subject, h] of bad) {
      test(`${what} outside the whitelist is refused, naming it`, () =>
        rejects(() => issueCertificate(request(key, subject, hosts(h)), profile, ca.issuer, CLOCK), 'NAME_NOT_ALLOWED', /^profile restricted: "(evil|evil\.example\.com|root@example\.com|spiffe:\/\/other\/x)" does not match name_whitelist/));
    }

    test('the CN of a subject given as DER (from a CSR) is checked too', () => {
      rejects(
        () => issueCertificate(request(key, encodeName(buildName({ CN: 'evil', names: [{ O: 'etcd-1' }] }))), profile, ca.issuer, CLOCK),
        'NAME_NOT_ALLOWED',
        /"evil"/,
      );
      // UTF8String CN in DER, as other tools write it.
      const utf8Cn = sequence(setOf(sequence(oid('2.5.4.3'), utf8String('etcd-7'))));
      assert.ok(issueCertificate(request(key, utf8Cn), profile, ca.issuer, CLOCK).der.length > 0);
    });
  });

  test('NO_USAGES: a profile that allows nothing', () => {
    const profile = { ...ETCD_PROFILES.client, name: 'empty', usages: parseUsages([]) };
    rejects(() => issueCertificate(request(generateKeyPair(P256), buildName({ CN: 'x' })), profile, ca.issuer, CLOCK), 'NO_USAGES', /^profile empty: allows no key usage$/);
  });

  test('KEY_MISMATCH: self-signing with a key that is not the request key', () => {
    const req = request(generateKeyPair(P256), buildName({ CN: 'x' }));
    rejects(() => issueCertificate(req, caProfile(), { selfSigned: true, privateKey: generateKeyPair(P256).privateKey }, CLOCK), 'KEY_MISMATCH', /self-signing/);
  });
});

describe('issue: CA certificates', () => {
  for (const [label, pathLen] of [
    ['no pathlen', undefined],
    ['pathlen 0', 0],
    ['pathlen 2', 2],
  ] as const) {
    test(`self-signed CA, ${label}: SKI = AKI, KU certSign+cRLSign critical, BC CA:TRUE critical, no EKU`, () => {
      const { der, key } = selfSignedCa(P256, caProfile(43800 * HOUR, pathLen));
      const view = parseCertificate(der);
      assert.equal(view.isCA, true);
      assert.equal(view.pathLen, pathLen);
      assert.deepEqual(view.keyUsage, ['keyCertSign', 'cRLSign']);
      assert.deepEqual(view.extKeyUsage, []);
      assert.equal(ext(view, '2.5.29.15')?.critical, true);
      assert.equal(ext(view, '2.5.29.19')?.critical, true);
      assert.equal(ext(view, '2.5.29.37'), undefined);
      assert.equal(view.subjectKeyId, keyIdentifier(subjectPublicKeyBits(spkiDer(key.publicKey))).toString('hex'));
      assert.equal(view.authorityKeyId, view.subjectKeyId);
      assert.equal(view.selfIssued, true);
      assert.equal(view.subject.text, 'CN=Test CA');
      assert.equal(view.notAfter.getTime() - view.notBefore.getTime(), 43800 * HOUR);
      assert.ok(verifySignedBy(der, spkiDer(key.publicKey)));
    });
  }

  test("the CA's pathlen comes from the profile, else from the request", () => {
    const key = generateKeyPair(P256);
    const own = { selfSigned: true, privateKey: key.privateKey } as const;
    const fromRequest = issueCertificate(request(key, buildName({ CN: 'r' }), emptySans(), { pathLen: 3 }), caProfile(), own, CLOCK);
    assert.equal(parseCertificate(fromRequest.der).pathLen, 3);
    const fromProfile = issueCertificate(request(key, buildName({ CN: 'r' }), emptySans(), { pathLen: 3 }), caProfile(43800 * HOUR, 1), own, CLOCK);
    assert.equal(parseCertificate(fromProfile.der).pathLen, 1);
  });
});

describe('issue: leaf certificates', () => {
  const roles: [keyof typeof ETCD_PROFILES, string[]][] = [
    ['server', ['serverAuth', 'clientAuth']],
    ['peer', ['serverAuth', 'clientAuth']],
    ['client', ['clientAuth']],
  ];
  for (const [role, eku] of roles) {
    test(`${role}: EKU ${eku.join('+')}, KU digitalSignature+keyEncipherment critical, BC CA:FALSE critical, AKI = CA SKI`, () => {
      const key = generateKeyPair(P256);
      const sans = parseHosts(['etcd-1.example.com', '10.0.0.1'], 'hosts', 'error');
      const { der } = issueCertificate(request(key, buildName({ CN: 'etcd-1' }), sans), ETCD_PROFILES[role], ca.issuer, CLOCK);
      const view = parseCertificate(der);
      assert.deepEqual(view.extKeyUsage, eku);
      assert.equal(ext(view, '2.5.29.37')?.critical, false);
      assert.deepEqual(view.keyUsage, ['digitalSignature', 'keyEncipherment']);
      assert.equal(ext(view, '2.5.29.15')?.critical, true);
      assert.equal(view.isCA, false);
      assert.equal(ext(view, '2.5.29.19')?.critical, true);
      assert.equal(view.authorityKeyId, ca.issuer.keyId.toString('hex'));
      assert.equal(view.subjectKeyId, keyIdentifier(subjectPublicKeyBits(spkiDer(key.publicKey))).toString('hex'));
      assert.equal(view.issuer.text, 'CN=Test CA');
      assert.equal(view.selfIssued, false);
      assert.deepEqual(view.sans, { dns: ['etcd-1.example.com'], ips: ['10.0.0.1'], emails: [], uris: [] });
      assert.ok(verifySignedBy(der, ca.issuer.cert.spki));
      assert.equal(verifySignedBy(der, edCa.issuer.cert.spki), false);
    });
  }

  test('the SAN extension is critical only when the subject is empty', () => {
    const key = generateKeyPair(P256);
    const sans = parseHosts(['etcd-1'], 'hosts', 'error');
    const named = parseCertificate(issueCertificate(request(key, buildName({ CN: 'etcd-1' }), sans), ETCD_PROFILES.server, ca.issuer, CLOCK).der);
    const empty = parseCertificate(issueCertificate(request(key, [], sans), ETCD_PROFILES.server, ca.issuer, CLOCK).der);
    assert.equal(ext(named, '2.5.29.17')?.critical, false);
    assert.equal(ext(empty, '2.5.29.17')?.critical, true);
    assert.equal(empty.subject.text, '');
  });

  test('no SANs: no SAN extension', () => {
    const view = parseCertificate(issueCertificate(request(generateKeyPair(P256), buildName({ CN: 'c' })), ETCD_PROFILES.client, ca.issuer, CLOCK).der);
    assert.equal(ext(view, '2.5.29.17'), undefined);
  });

  test('a subject given as DER is copied byte for byte', () => {
    const subject = sequence(setOf(sequence(oid('2.5.4.3'), utf8String('raw'))));
    const { der } = issueCertificate(request(generateKeyPair(P256), subject), ETCD_PROFILES.client, ca.issuer, CLOCK);
    assert.deepEqual(parseCertificate(der, 'leaf.pem').subjectDer, subject);
  });
});

describe('issue: what is reused from one certificate to the next', () => {
  test('alternating two CAs and two expiries, each certificate gets its own AKI and validity', () => {
    const other = selfSignedCa(P256, caProfile(), CLOCK, 'Other CA');
    const short = { ...ETCD_PROFILES.client, expiryMs: 24 * HOUR };
    const key = generateKeyPair(P256);
    for (const [issuer, profile, clock] of [
      [ca.issuer, ETCD_PROFILES.client, CLOCK],
      [other.issuer, short, CLOCK],
      [ca.issuer, short, at('2025-03-05T10:17:31Z')],
      [other.issuer, ETCD_PROFILES.client, CLOCK],
      [ca.issuer, ETCD_PROFILES.client, CLOCK],
    ] as const) {
      const issued = issueCertificate(request(key, buildName({ CN: 'c' })), profile, issuer, clock);
      const view = parseCertificate(issued.der);
      assert.equal(view.authorityKeyId, issuer.keyId.toString('hex'));
      assert.equal(view.issuer.text, issuer === ca.issuer ? 'CN=Test CA' : 'CN=Other CA');
      const core = parseCertificate(issued.der, 'leaf.pem');
      assert.equal(core.notBefore.toISOString(), issued.notBefore.toISOString());
      assert.equal(core.notAfter.getTime() - core.notBefore.getTime(), profile.expiryMs);
      assert.ok(verifySignedBy(issued.der, issuer.cert.spki));
    }
  });

  test('systemRandom: fresh bytes of the asked length, each call its own copy', () => {
    const seen = new Set<string>();
    // 20 KiB in 20-byte serials: the pool behind systemRandom refills several times.
    for (let i = 0; i < 1000; i++) {
      const b = systemRandom(20);
      assert.equal(b.length, 20);
      seen.add(b.toString('hex'));
      b.fill(0);
    }
    assert.equal(seen.size, 1000);
    for (const n of [0, 1, 512, 513, 5000]) assert.equal(systemRandom(n).length, n);
    assert.notEqual(systemRandom(5000).toString('hex'), systemRandom(5000).toString('hex'));
  });

  test('default random source: serials differ between certificates', () => {
    const req = request(generateKeyPair(P256), buildName({ CN: 's' }));
    const serials = new Set(Array.from({ length: 50 }, () => issueCertificate(req, ETCD_PROFILES.client, ca.issuer, CLOCK).serialHex));
    assert.equal(serials.size, 50);
  });
});

describe('loadIssuer', () => {
  const pem = (der: Buffer): string => toPem('CERTIFICATE', der);

  test('reads the CA fields issuing needs', () => {
    const core = ca.issuer.cert;
    assert.equal(core.isCA, true);
    assert.equal(core.pathLen, undefined);
    assert.deepEqual(core.subjectDer, encodeName(buildName({ CN: 'Test CA' })));
    assert.deepEqual(core.issuerDer, core.subjectDer);
    assert.equal(core.keyUsageBits, (1 << 5) | (1 << 6));
    assert.equal(ca.issuer.keyId.toString('hex'), core.subjectKeyId);
    assert.equal(ca.issuer.source, 'ca.pem');
  });

  test("KEY_MISMATCH: another key than the CA's", () => {
    rejects(
      () => loadIssuer(pem(ca.der), 'ca.pem', encodePrivateKeyPem(generateKeyPair(P256).privateKey), 'other-key.pem'),
      'KEY_MISMATCH',
      /^other-key\.pem: this private key does not belong to the CA certificate ca\.pem$/,
    );
  });

  test('NOT_A_CA: a leaf certificate as issuer', () => {
    const key = generateKeyPair(P256);
    const leaf = issueCertificate(request(key, buildName({ CN: 'leaf' })), ETCD_PROFILES.server, ca.issuer, CLOCK);
    rejects(() => loadIssuer(pem(leaf.der), 'server.pem', encodePrivateKeyPem(key.privateKey), 'server-key.pem'), 'NOT_A_CA', /^server\.pem: is not a CA certificate/);
  });

  test('NOT_A_CA: a CA certificate whose keyUsage lacks certSign', () => {
    const key = generateKeyPair(P256);
    const profile = { ...caProfile(), name: 'crl-only', usages: parseUsages(['crl sign', 'digital signature']) };
    const { der } = issueCertificate(request(key, buildName({ CN: 'no sign' })), profile, { selfSigned: true, privateKey: key.privateKey }, CLOCK);
    assert.equal(parseCertificate(der).isCA, true);
    rejects(() => loadIssuer(pem(der), 'ca.pem', encodePrivateKeyPem(key.privateKey), 'ca-key.pem'), 'NOT_A_CA', /^ca\.pem: its keyUsage does not allow signing certificates/);
  });

  test('BAD_PEM: no CERTIFICATE block, naming what was found', () => {
    const keyPem = encodePrivateKeyPem(ca.key.privateKey);
    rejects(() => loadIssuer(keyPem, 'ca.pem', keyPem, 'ca-key.pem'), 'BAD_PEM', /^ca\.pem: expected a PEM "CERTIFICATE" block, found "EC PRIVATE KEY"$/);
  });

  test('BAD_DER: a certificate cut short or with trailing bytes', () => {
    const keyPem = encodePrivateKeyPem(ca.key.privateKey);
    for (const der of [ca.der.subarray(0, ca.der.length - 1), Buffer.concat([ca.der, Buffer.from([0])]), ca.der.subarray(0, 40)])
      rejects(() => loadIssuer(pem(der), 'ca.pem', keyPem, 'ca-key.pem'), 'BAD_DER', /^ca\.pem: not a valid X\.509 certificate/);
  });

  test('BAD_DER, not a crash: structurally odd certificates', () => {
    const tbsWith = (exts: Buffer): Buffer => {
      const [, serial, alg, issuer, validity, subject, spki] = children(ca.der, readElement(ca.der, 0)).flatMap((el, i) =>
        i === 0 ? children(ca.der, el).map((c) => ca.der.subarray(c.start, c.end)) : [],
      );
      return sequence(
        sequence(explicit(0, smallInteger(2)), serial as Buffer, alg as Buffer, issuer as Buffer, validity as Buffer, subject as Buffer, spki as Buffer, exts),
        alg as Buffer,
        Buffer.from([0x03, 0x01, 0x00]),
      );
    };
    const odd = [
      explicit(3, Buffer.alloc(0)), // [3] with no Extensions inside
      explicit(3, sequence(sequence())), // an Extension with no fields
      explicit(3, sequence(sequence(oid('2.5.29.19')))), // an Extension without a value
      explicit(3, sequence(sequence(oid('2.5.29.19'), Buffer.from([0x04, 0x00])))), // an empty extnValue
    ];
    for (const exts of odd) rejects(() => parseCertificate(tbsWith(exts), 'odd.pem'), 'BAD_DER', /^odd\.pem: not a valid X\.509 certificate/);
  });
});
