// cfssl CSR JSON (src/cfssl/csr.ts) and the flows built on it (src/cfssl/gencert.ts, sign.ts),
// in-process with a fixed clock and fixed serials so the results are exact.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { ErrorCode } from '../../src/errors.js';
import { parseCsrJson, parseSubjectJson, type CsrRequest } from '../../src/cfssl/csr.js';
import { genCert, genKey, initCa, selfSign, SELFSIGN_EXPIRY_MS } from '../../src/cfssl/gencert.js';
import { signCsr } from '../../src/cfssl/sign.js';
import { parseSigningConfig, selectProfile } from '../../src/cfssl/config.js';
import { loadIssuer, type Issuer } from '../../src/pki/certificate.js';
import { parseCertificatePem } from '../../src/pki/pem.js';
import { parsePemBlocks } from '../../src/pki/pem.js';
import { inspectCsr } from '../../src/pki/inspect.js';
import { parseCertificate } from '../../src/pki/certificate.js';
import type { Clock } from '../../src/pki/issue.js';
import { CFSSL_DEFAULT_PROFILE } from '../../src/pki/profile.js';
import { REPO_ROOT } from '../helpers/components.js';
import { rejects as assertFails } from '../helpers/assertions.js';

const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'cfssl');
const fixture = (name: string): string => readFileSync(path.join(FIXTURES, name), 'utf8');
const HOUR = 3_600_000;
const NOW = new Date('2026-03-01T12:00:20Z');
const clock = { now: () => NOW };
const random = (n: number): Buffer => Buffer.alloc(n, 0x42);

function parse(text: string, initca = false, source = 'csr.json'): { req: CsrRequest; warnings: string[] } {
  const warnings: string[] = [];
  const req = parseCsrJson(text, source, { initca, warn: (m) => warnings.push(m) });
  return { req, warnings };
}


const certOf = (pem: string | undefined) => parseCertificate(parseCertificatePem(pem ?? '', 'cert'));
const csrOf = (pem: string | undefined) => inspectCsr((parsePemBlocks(pem ?? '')[0] as { der: Buffer }).der);

describe('CSR JSON', () => {
  test("the blog's CA CSR: both OUs are kept, with one warning naming the duplicate", () => {
    const { req, warnings } = parse(fixture('ca-csr.json'), true, 'ca-csr.json');
    assert.deepEqual(warnings, ['ca-csr.json: names[0]: duplicate key "OU"; keeping both values']);
    assert.deepEqual(req.subject.names?.[0]?.OU, ['Org Unit 1', 'Org Unit 2']);
    assert.deepEqual(req.key, { algo: 'rsa', size: 2048 });
  });

  test('"OU": ["a","b"] is accepted without a warning', () => {
    const { req, warnings } = parse(fixture('csr-ou-list.json'), true);
    assert.deepEqual(warnings, []);
    assert.deepEqual(req.subject.names?.[0]?.OU, ['Org Unit 1', 'Org Unit 2']);
  });

  test('keys match case-insensitively, as in Go', () => {
    const { req, warnings } = parse('{"cn":"x","HOSTS":["a.example"],"Key":{"ALGO":"ecdsa","Size":384},"Names":[{"ou":"u"}]}');
    assert.deepEqual(warnings, []);
    assert.deepEqual(req, { source: 'csr.json', subject: { CN: 'x', names: [{ OU: 'u' }] }, hosts: ['a.example'], key: { algo: 'ecdsa', size: 384 } });
  });

  const keys: [string, string, object][] = [
    ['no key object: ECDSA P-256 (cfssl default)', '{"CN":"x"}', { algo: 'ecdsa', size: 256 }],
    ['a partial key merges with the default: {"size":384}', '{"CN":"x","key":{"size":384}}', { algo: 'ecdsa', size: 384 }],
    ['rsa 3072', '{"CN":"x","key":{"algo":"rsa","size":3072}}', { algo: 'rsa', size: 3072 }],
    ['ed25519 needs no size', '{"CN":"x","key":{"algo":"ed25519"}}', { algo: 'ed25519', size: 0 }],
    ['a null key means no key object', '{"CN":"x","key":null}', { algo: 'ecdsa', size: 256 }],
  ];
  for (const [name, text, key] of keys) test(`key: ${name}`, () => assert.deepEqual(parse(text).req.key, key));

  const pathlens: [string, object | undefined][] = [
    ['{"pathlen":1}', { pathLen: 1 }],
    ['{"pathlen":0,"pathlenzero":true}', { pathLen: 0 }],
    ['{"pathlen":0}', {}],
    ['{"expiry":"2h","backdate":"1m"}', { expiryMs: 2 * HOUR, backdateMs: 60_000 }],
  ];
  for (const [ca, want] of pathlens) {
    test(`ca section ${ca} (cfssl's pathlen rules)`, () => assert.deepEqual(parse(`{"CN":"ca","ca":${ca}}`, true).req.ca, want));
  }

  test('ca: pathlenzero with a non-zero pathlen is ignored, with a warning', () => {
    const { req, warnings } = parse('{"CN":"ca","ca":{"pathlen":2,"pathlenzero":true}}', true);
    assert.deepEqual(req.ca, { pathLen: 2 });
    assert.deepEqual(warnings, ['csr.json: ca.pathlenzero: ignored because pathlen is 2']);
  });

  test('unknown keys and unsupported cfssl keys are warnings', () => {
    const { warnings } = parse('{"CN":"x","host":["a"],"extensions":[],"names":[{"OID":{"1.2.3":"v"},"Country":"US"}]}');
    assert.deepEqual(warnings, [
      'csr.json: names[0]: unknown key "Country"; ignored',
      'csr.json: unknown key "host"; ignored (did you mean "hosts"?)',
      'csr.json: "extensions" is not supported by etcd-tls (arbitrary extensions are not copied into certificates); ignored',
    ]);
  });

  test('"OID" (cfssl HEAD): custom attributes by dotted OID, in the order written; the key matches case-insensitively', () => {
    const { req, warnings } = parse('{"CN":"x","names":[{"O":"etcd","oid":{"1.3.6.1.4.1.32473.2":"b","1.3.6.1.4.1.32473.1":"a","1.2.3":null}}]}');
    assert.deepEqual(warnings, []);
    assert.deepEqual(req.subject.names, [{ O: 'etcd', OID: { '1.3.6.1.4.1.32473.2': 'b', '1.3.6.1.4.1.32473.1': 'a' } }]);
  });

  test('"OID": a duplicate key keeps the last value (Go\'s map), with a warning', () => {
    const { req, warnings } = parse('{"names":[{"OID":{"1.2.3":"a","1.2.3":"b"}}]}');
    assert.deepEqual(req.subject.names, [{ OID: { '1.2.3': 'b' } }]);
    assert.deepEqual(warnings, ['csr.json: names[0].OID: duplicate key "1.2.3"; the last value wins']);
  });

  const errors: [string, string, boolean, ErrorCode, RegExp][] = [
    ['an OID value that is a number', '{"names":[{"OID":{"1.2.3":5}}]}', false, 'BAD_FIELD', /^csr\.json: names\[0\]\.OID\."1\.2\.3": expected a string, got number$/],
    ['"OID" that is a list', '{"names":[{"OID":["1.2.3"]}]}', false, 'BAD_FIELD', /^csr\.json: names\[0\]\.OID: expected an object, got array$/],
    ['a size given as a string', fixture('bad-size-type.json'), false, 'BAD_FIELD', /^csr\.json: key\.size: expected a number, got string$/],
    ['a fractional size', '{"key":{"algo":"rsa","size":2048.5}}', false, 'BAD_FIELD', /^csr\.json: key\.size: expected a whole number, got 2048\.5$/],
    ['rsa 1024', fixture('bad-rsa-1024.json'), false, 'BAD_KEY_SPEC', /^csr\.json: key: RSA key size 1024 is too weak/],
    ['rsa 16384', '{"key":{"algo":"rsa","size":16384}}', false, 'BAD_KEY_SPEC', /RSA key size 16384 is too large/],
    ['ecdsa 255', fixture('bad-ecdsa-255.json'), false, 'BAD_KEY_SPEC', /^csr\.json: key: ECDSA size 255 is not a supported curve/],
    ['dsa', '{"key":{"algo":"dsa","size":2048}}', false, 'BAD_KEY_SPEC', /key algorithm "dsa" is not supported/],
    ['rsa without a size', '{"key":{"algo":"rsa"}}', false, 'BAD_KEY_SPEC', /^csr\.json: key\.size: missing; an RSA key needs a size/],
    ['hosts as a string', '{"CN":"x","hosts":"a.example"}', false, 'BAD_FIELD', /^csr\.json: hosts: expected a list of strings, got string$/],
    ['a number in hosts', '{"CN":"x","hosts":["a",1]}', false, 'BAD_FIELD', /^csr\.json: hosts\[1\]: expected a string, got number$/],
    ['names not a list', '{"names":{"C":"US"}}', false, 'BAD_FIELD', /^csr\.json: names: expected a list of objects, got object$/],
    ['a names entry not an object', '{"names":["US"]}', false, 'BAD_FIELD', /^csr\.json: names\[0\]: expected an object, got string$/],
    ['an OU that is a number', '{"names":[{"OU":7}]}', false, 'BAD_FIELD', /^csr\.json: names\[0\]\.OU: expected a string or a list of strings, got number$/],
    ['a ca section outside -initca', fixture('bad-ca-section.json'), false, 'BAD_FIELD', /^csr\.json: ca: a "ca" section is only permitted with -initca/],
    ['a bad ca.expiry', '{"CN":"x","ca":{"expiry":"forever"}}', true, 'BAD_DURATION', /^csr\.json: ca\.expiry: "forever" is not a duration/],
    ['a negative pathlen', '{"CN":"x","ca":{"pathlen":-1}}', true, 'BAD_FIELD', /^csr\.json: ca\.pathlen: must not be negative/],
    ['malformed JSON', fixture('bad-malformed.json'), false, 'BAD_JSON', /^csr\.json:1:13: unexpected end of input/],
  ];
  for (const [name, text, initca, code, message] of errors) test(`error: ${name}`, () => assertFails(() => parse(text, initca), code, message));
});

describe('initCa', () => {
  const { req } = parse(fixture('ca-csr.json'), true, 'ca-csr.json');
  const out = initCa(req, { warn: () => {}, clock, random });
  const cert = certOf(out.cert);

  test("makes the blog's CA: both OUs in the subject, CA:TRUE without pathlen, certSign+cRLSign, no SAN", () => {
    assert.equal(cert.subject.text, 'C=US, ST=San Francisco, L=CA, O=My Company Name, OU=Org Unit 1, OU=Org Unit 2, CN=My own CA');
    assert.ok(cert.selfIssued && cert.isCA && cert.pathLen === undefined);
    assert.deepEqual(cert.keyUsage, ['keyCertSign', 'cRLSign']);
    assert.deepEqual(cert.extKeyUsage, []);
    assert.equal(cert.authorityKeyId, cert.subjectKeyId);
    assert.deepEqual(cert.publicKey, { algo: 'rsa', size: 2048 });
  });

  test("validity: now rounded to the minute minus 5 minutes, plus cfssl's 43800h", () => {
    assert.equal(cert.notBefore.toISOString(), '2026-03-01T11:55:00.000Z');
    assert.equal(cert.notAfter.getTime() - cert.notBefore.getTime(), 43800 * HOUR);
  });

  test('outputs an RSA PRIVATE KEY matching the certificate, and a CSR with the same subject', () => {
    assert.match(out.key ?? '', /^-----BEGIN RSA PRIVATE KEY-----\n/);
    const issuer = loadIssuer(out.cert ?? '', 'ca.pem', out.key ?? '', 'ca-key.pem');
    assert.ok(issuer.cert.isCA);
    assert.equal(csrOf(out.csr).subject.text, cert.subject.text);
  });

  test('ca.expiry and ca.pathlen are honoured; the CSR keeps JSON hosts, the certificate does not', () => {
    const { req: r } = parse('{"CN":"etcd CA","hosts":["ca.example"],"ca":{"expiry":"87600h","pathlen":1}}', true);
    const o = initCa(r, { warn: () => {}, clock, random });
    const c = certOf(o.cert);
    assert.equal(c.notAfter.getTime() - c.notBefore.getTime(), 87600 * HOUR);
    assert.equal(c.pathLen, 1);
    assert.deepEqual(c.sans.dns, []);
    assert.deepEqual(csrOf(o.csr).sans.dns, ['ca.example']);
    assert.deepEqual(csrOf(o.csr).ca, { pathLen: 1 });
  });

  test('with an existing key (-initca -ca-key): same key, no key in the output', () => {
    const first = initCa(parse('{"CN":"ca"}', true).req, { warn: () => {}, clock, random });
    const key = loadIssuer(first.cert ?? '', 'a', first.key ?? '', 'b').privateKey;
    const again = initCa(parse('{"CN":"ca renewed"}', true).req, { warn: () => {}, clock, random, existingKey: key });
    assert.equal(again.key, undefined);
    assert.equal(certOf(again.cert).subjectKeyId, certOf(first.cert).subjectKeyId);
  });

  test('-pkcs8 writes "PRIVATE KEY"; ECDSA keys are "EC PRIVATE KEY" by default', () => {
    const r = parse('{"CN":"ca"}', true).req;
    assert.match(initCa(r, { warn: () => {}, keyFormat: 'pkcs8' }).key ?? '', /^-----BEGIN PRIVATE KEY-----/);
    assert.match(initCa(r, { warn: () => {} }).key ?? '', /^-----BEGIN EC PRIVATE KEY-----/);
  });

  test('no CN and no names is EMPTY_SUBJECT', () => {
    assertFails(() => initCa(parse(fixture('bad-empty-subject.json'), true).req, { warn: () => {} }), 'EMPTY_SUBJECT', /^csr\.json: a CA needs a subject/);
  });

  test('a short-lived CA ("1m", shorter than the backdate; cfssl #1064 made it expire as issued) is valid for 1m from now', () => {
    const c = certOf(initCa(parse('{"CN":"ca","ca":{"expiry":"1m"}}', true).req, { warn: () => {}, clock, random }).cert);
    assert.equal(c.notAfter.toISOString(), '2026-03-01T12:01:20.000Z');
    assert.equal(c.notBefore.toISOString(), '2026-03-01T12:00:14.000Z');
  });

  test('regression: an expiry past 9999-12-31 ("9000y", "99999999h") is BAD_VALIDITY/BAD_DURATION naming the field, not INTERNAL', () => {
    assertFails(() => initCa(parse('{"CN":"ca","ca":{"expiry":"7990y"}}', true).req, { warn: () => {}, clock }), 'BAD_VALIDITY', /^csr\.json: ca\.expiry: the certificate would be valid until the year 1\d\d\d\d, after 9999-12-31/);
    assertFails(() => parse('{"CN":"ca","ca":{"expiry":"9000y"}}', true), 'BAD_DURATION', /ca\.expiry: "9000y" is longer than any certificate can be valid/);
    assertFails(() => parse('{"CN":"ca","ca":{"expiry":"99999999h"}}', true), 'BAD_DURATION', /ca\.expiry: "99999999h" is longer/);
  });
});

describe('genCert', () => {
  const ca = initCa(parse('{"CN":"test CA","key":{"algo":"ecdsa","size":256},"ca":{"expiry":"87600h"}}', true).req, { warn: () => {}, clock, random });
  const issuer: Issuer = loadIssuer(ca.cert ?? '', 'ca.pem', ca.key ?? '', 'ca-key.pem');
  const blog = parseSigningConfig(fixture('ca-config.json'), 'ca-config.json', () => {});
  const leaf = '{"CN":"coreos1","hosts":["10.93.81.17","127.0.0.1"],"key":{"algo":"rsa","size":2048}}';

  test('-hostname replaces the JSON hosts in the CSR and the certificate; entries are trimmed', () => {
    const out = genCert(parse(leaf).req, { issuer, profile: selectProfile(blog, 'server'), hostname: ' 10.93.81.17, 127.0.0.1 ,server', warn: () => {}, clock, random });
    const cert = certOf(out.cert);
    assert.deepEqual(cert.sans, { dns: ['server'], ips: ['10.93.81.17', '127.0.0.1'], emails: [], uris: [] });
    assert.deepEqual(csrOf(out.csr).sans, cert.sans);
    assert.deepEqual(cert.extKeyUsage, ['serverAuth']);
    assert.equal(cert.authorityKeyId, issuer.keyId.toString('hex'));
    assert.equal(cert.serialHex, '42'.repeat(20));
  });

  test('the leaf keeps its own key type; the hash follows the CA key', () => {
    const cert = certOf(genCert(parse(leaf).req, { issuer, profile: selectProfile(blog, 'client'), warn: () => {}, clock }).cert);
    assert.deepEqual(cert.publicKey, { algo: 'rsa', size: 2048 });
    assert.equal(cert.signatureAlgorithm, 'ECDSAWithSHA256');
  });

  test('a leaf that would outlive its CA is OUTLIVES_CA naming both dates (cfssl issues it)', () => {
    const shortCa = initCa(parse('{"CN":"short CA","ca":{"expiry":"2h"}}', true).req, { warn: () => {}, clock });
    const shortIssuer = loadIssuer(shortCa.cert ?? '', 'ca.pem', shortCa.key ?? '', 'ca-key.pem');
    assertFails(
      () => genCert(parse(leaf).req, { issuer: shortIssuer, profile: selectProfile(blog, 'peer'), warn: () => {}, clock }),
      'OUTLIVES_CA',
      /valid until 2031-02-28T11:55:00Z, after its CA ca\.pem expires at 2026-03-01T14:00:20Z/,
    );
  });

  test("a profile expiry equal to the CA's lifetime ends the leaf with the CA (the blog's 43800h, typed by hand a day later)", () => {
    const blogCa = initCa(parse('{"CN":"blog CA"}', true).req, { warn: () => {}, clock });
    const blogIssuer = loadIssuer(blogCa.cert ?? '', 'ca.pem', blogCa.key ?? '', 'ca-key.pem');
    const nextDay = { now: () => new Date(NOW.getTime() + 24 * HOUR) };
    const warnings: string[] = [];
    const cert = certOf(genCert(parse(leaf).req, { issuer: blogIssuer, profile: selectProfile(blog, 'peer'), warn: (m) => warnings.push(m), clock: nextDay }).cert);
    assert.equal(cert.notAfter.getTime(), blogIssuer.cert.notAfter.getTime());
    assert.deepEqual(warnings, ["profile peer: its expiry equals the CA's lifetime, so the certificate ends when the CA ca.pem does (2031-02-28T11:55:00Z), not at 2031-03-01T11:55:00Z"]);
    const signed = certOf(signCsr(fixture('csr-fixture.csr'), 'x.csr', { issuer: blogIssuer, profile: selectProfile(blog, 'client'), clock: nextDay }).cert);
    assert.equal(signed.notAfter.getTime(), blogIssuer.cert.notAfter.getTime(), 'sign does the same');
  });

  test('the CA-lifetime fit and the issuance read the clock once (no OUTLIVES_CA at hh:mm:30)', () => {
    const blogCa = initCa(parse('{"CN":"blog CA"}', true).req, { warn: () => {}, clock });
    const blogIssuer = loadIssuer(blogCa.cert ?? '', 'ca.pem', blogCa.key ?? '', 'ca-key.pem');
    // The first `reads` reads at 12:00:29 (rounds to the CA's own minute: the leaf just fits), every later
    // one at 12:00:30 (rounds up: a minute past the CA). genCert read the clock twice before issuing, sign once.
    const halfMinute = Math.floor(NOW.getTime() / 60_000) * 60_000 + 30_000;
    const ticking = (reads: number): Clock => ({ now: () => new Date(reads-- > 0 ? halfMinute - 1_000 : halfMinute) });
    const cert = certOf(genCert(parse(leaf).req, { issuer: blogIssuer, profile: selectProfile(blog, 'peer'), warn: () => {}, clock: ticking(2) }).cert);
    assert.equal(cert.notAfter.getTime(), blogIssuer.cert.notAfter.getTime());
    const signed = certOf(signCsr(fixture('csr-fixture.csr'), 'x.csr', { issuer: blogIssuer, profile: selectProfile(blog, 'client'), clock: ticking(1) }).cert);
    assert.equal(signed.notAfter.getTime(), blogIssuer.cert.notAfter.getTime());
  });

  test('an empty -hostname entry and an invalid IP are errors', () => {
    const opts = { issuer, profile: CFSSL_DEFAULT_PROFILE, warn: () => {} };
    assertFails(() => genCert(parse(leaf).req, { ...opts, hostname: 'a.example,,b.example' }), 'BAD_HOSTNAME', /^-hostname: entry 2 is empty$/);
    assertFails(() => genCert(parse(leaf).req, { ...opts, hostname: '10.0.0.300' }), 'BAD_HOSTNAME', /^-hostname: "10\.0\.0\.300" is not a valid IP address$/);
    assertFails(() => genCert(parse(fixture('bad-hosts.json')).req, opts), 'BAD_HOSTNAME', /^csr\.json: hosts: "10\.0\.0\.300" is not a valid IP address$/);
  });

  test('an empty JSON host is left out with a warning', () => {
    const warnings: string[] = [];
    const out = genCert(parse('{"CN":"x","hosts":["","a.example"]}').req, { issuer, profile: CFSSL_DEFAULT_PROFILE, warn: (m) => warnings.push(m) });
    assert.deepEqual(certOf(out.cert).sans.dns, ['a.example']);
    assert.deepEqual(warnings, ['csr.json: hosts: entry 1 is empty; left out (an empty SAN is invalid under RFC 5280)']);
  });

  test('a server certificate without any SAN gets a warning; a client certificate does not', () => {
    const warnings: string[] = [];
    genCert(parse('{"CN":"x"}').req, { issuer, profile: selectProfile(blog, 'server'), warn: (m) => warnings.push(m) });
    genCert(parse('{"CN":"x"}').req, { issuer, profile: selectProfile(blog, 'client'), warn: (m) => warnings.push(m) });
    assert.deepEqual(warnings, ['csr.json: no hosts and no -hostname: a server certificate without SANs matches no address (clients will reject it)']);
  });

  test('no subject and no hosts is EMPTY_SUBJECT', () => {
    assertFails(() => genCert(parse('{}').req, { issuer, profile: CFSSL_DEFAULT_PROFILE, warn: () => {} }), 'EMPTY_SUBJECT', /^csr\.json: no "CN", no "names" and no hosts/);
  });

  test('name_whitelist is enforced', () => {
    const config = parseSigningConfig('{"signing":{"default":{"expiry":"1h","usages":["server auth"],"name_whitelist":"\\\\.example$"}}}', 'c.json', () => {});
    assertFails(() => genCert(parse('{"CN":"x.example","hosts":["evil.test"]}').req, { issuer, profile: selectProfile(config, undefined), warn: () => {} }), 'NAME_NOT_ALLOWED', /"evil\.test" does not match name_whitelist/);
  });

  test('a fixed not_before/not_after window from the profile is used as is', () => {
    const config = parseSigningConfig(fixture('config-full.json'), 'config-full.json', () => {});
    const cert = certOf(genCert(parse('{"CN":"x"}').req, { issuer, profile: selectProfile(config, 'fixed'), warn: () => {}, clock }).cert);
    assert.deepEqual([cert.notBefore.toISOString(), cert.notAfter.toISOString()], ['2030-01-01T00:00:00.000Z', '2031-01-01T00:00:00.000Z']);
  });
});

describe('genKey and selfSign', () => {
  test('genKey outputs a key and a CSR signed by it, no certificate', () => {
    const out = genKey(parse('{"CN":"m1","hosts":["127.0.0.1"],"key":{"algo":"ed25519"}}').req, { warn: () => {} });
    assert.equal(out.cert, undefined);
    assert.match(out.key ?? '', /^-----BEGIN PRIVATE KEY-----/, 'Ed25519 has no traditional form');
    const csr = csrOf(out.csr);
    assert.ok(csr.signatureValid);
    assert.deepEqual(csr.sans.ips, ['127.0.0.1']);
  });

  test('selfSign puts HOSTNAME in the SANs (cfssl 1.2.0 drops it) and lasts 2190h by default', () => {
    const profile = { ...CFSSL_DEFAULT_PROFILE, expiryMs: SELFSIGN_EXPIRY_MS };
    const out = selfSign(parse('{"CN":"t","hosts":["ignored.example"]}').req, 'localhost,127.0.0.1', { profile, warn: () => {}, clock });
    const cert = certOf(out.cert);
    assert.deepEqual([cert.sans.dns, cert.sans.ips], [['localhost'], ['127.0.0.1']]);
    assert.ok(cert.selfIssued && !cert.isCA);
    assert.equal(cert.notAfter.getTime() - cert.notBefore.getTime(), 2190 * HOUR);
  });
});

describe('custom "OID" name attributes in every flow', () => {
  const json = '{"CN":"m1","names":[{"O":"etcd","OID":{"1.3.6.1.4.1.32473.1":"team-a"}}],"hosts":["127.0.0.1"]}';
  const text = 'O=etcd, CN=m1, 1.3.6.1.4.1.32473.1=team-a';
  const ca = initCa(parse(json, true).req, { warn: () => {}, clock });
  const issuer = loadIssuer(ca.cert ?? '', 'ca.pem', ca.key ?? '', 'ca-key.pem');

  test('-initca: in the CA certificate and its CSR, after CN', () => {
    assert.equal(certOf(ca.cert).subject.text, text);
    assert.deepEqual(certOf(ca.cert).subject.other, ['1.3.6.1.4.1.32473.1=team-a']);
    assert.equal(csrOf(ca.csr).subject.text, text);
  });

  test('gencert, genkey and selfsign', () => {
    const req = parse(json).req;
    assert.equal(certOf(genCert(req, { issuer, profile: CFSSL_DEFAULT_PROFILE, warn: () => {}, clock }).cert).subject.text, text);
    assert.equal(csrOf(genKey(req, { warn: () => {} }).csr).subject.text, text);
    assert.equal(certOf(selfSign(req, 'localhost', { profile: CFSSL_DEFAULT_PROFILE, warn: () => {}, clock }).cert).subject.text, text);
  });

  test("sign keeps them from the CSR, and a SUBJECT file's OIDs replace them", () => {
    const csr = genKey(parse(json).req, { warn: () => {} }).csr ?? '';
    assert.equal(certOf(signCsr(csr, 'm1.csr', { issuer, profile: CFSSL_DEFAULT_PROFILE }).cert).subject.text, text);
    const subject = parseSubjectJson('{"CN":"m2","names":[{"OID":{"1.3.6.1.4.1.32473.9":"other"}}]}', 'subject.json', () => {});
    assert.equal(certOf(signCsr(csr, 'm1.csr', { issuer, profile: CFSSL_DEFAULT_PROFILE, subject, subjectSource: 'subject.json' }).cert).subject.text, 'CN=m2, 1.3.6.1.4.1.32473.9=other');
  });

  test('a bad OID is BAD_NAME naming the input, entry and key, before any key is generated', () => {
    const bad = parse('{"CN":"x","names":[{"OID":{"1.2.x":"v"}}]}', false, 'bad.json').req;
    assertFails(() => genKey(bad, { warn: () => {} }), 'BAD_NAME', /^bad\.json: names\[0\]\.OID\."1\.2\.x": is not a dotted OID/);
    assertFails(() => initCa(parse('{"CN":"x","names":[{"OID":{"2.5.4.10":"v"}}]}', true, 'ca.json').req, { warn: () => {} }), 'BAD_NAME', /^ca\.json: names\[0\]\.OID\."2\.5\.4\.10": 2\.5\.4\.10 is O; set it with the "O" field$/);
  });
});

describe('signCsr', () => {
  const ca = initCa(parse('{"CN":"sign CA"}', true).req, { warn: () => {}, clock });
  const issuer = loadIssuer(ca.cert ?? '', 'ca.pem', ca.key ?? '', 'ca-key.pem');
  const csrPem = fixture('csr-fixture.csr');

  test("keeps the CSR's subject byte for byte and its SANs, and echoes the CSR", () => {
    const out = signCsr(csrPem, 'csr-fixture.csr', { issuer, profile: CFSSL_DEFAULT_PROFILE });
    const cert = certOf(out.cert);
    assert.equal(out.csr, csrPem);
    assert.equal(cert.subject.text, 'O=etcd-tls fixtures, CN=csr-fixture');
    assert.deepEqual([cert.sans.dns, cert.sans.ips], [['csr.example'], ['127.0.0.21']]);
    const csrKey = createPublicKey(fixture('csr-fixture-key.pem')).export({ format: 'der', type: 'spki' });
    assert.deepEqual(inspectCsr((parsePemBlocks(csrPem)[0] as { der: Buffer }).der).publicKeySpki, csrKey);
  });

  test('-hostname replaces the SANs; a SUBJECT file replaces the subject', () => {
    const subject = parseSubjectJson('{"CN":"renamed","names":[{"O":"Other"}]}', 'subject.json', () => {});
    const cert = certOf(signCsr(csrPem, 'x.csr', { issuer, profile: CFSSL_DEFAULT_PROFILE, hostname: 'etcd1', subject }).cert);
    assert.deepEqual(cert.sans.dns, ['etcd1']);
    assert.deepEqual(cert.sans.ips, []);
    assert.equal(cert.subject.text, 'O=Other, CN=renamed');
  });

  test('a CSR with a bad signature is BAD_CSR_SIGNATURE', () => {
    assertFails(() => signCsr(fixture('bad-signature.csr'), 'bad-signature.csr', { issuer, profile: CFSSL_DEFAULT_PROFILE }), 'BAD_CSR_SIGNATURE', /^bad-signature\.csr: the CSR's signature does not verify/);
  });

  test('a CSR asking for CA:TRUE needs a profile with ca_constraint', () => {
    const caCsr = initCa(parse('{"CN":"sub CA","ca":{"pathlen":0,"pathlenzero":true}}', true).req, { warn: () => {} }).csr ?? '';
    assertFails(() => signCsr(caCsr, 'sub.csr', { issuer, profile: CFSSL_DEFAULT_PROFILE }), 'CA_NOT_ALLOWED', /profile default: does not allow issuing CA certificates/);
    const config = parseSigningConfig(fixture('config-full.json'), 'c.json', () => {});
    const cert = certOf(signCsr(caCsr, 'sub.csr', { issuer, profile: selectProfile(config, 'intermediate') }).cert);
    assert.ok(cert.isCA);
    assert.equal(cert.pathLen, 0);
    assert.deepEqual(cert.crlUrls, ['http://crl.example/intermediate.crl']);
  });

  test('not a CSR is BAD_PEM naming what was found', () => {
    assertFails(() => signCsr(ca.cert ?? '', 'ca.pem', { issuer, profile: CFSSL_DEFAULT_PROFILE }), 'BAD_PEM', /^ca\.pem: expected a PEM "CERTIFICATE REQUEST" block, found "CERTIFICATE"$/);
  });
});
