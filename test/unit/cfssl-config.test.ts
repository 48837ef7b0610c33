// cfssl signing configs (src/cfssl/config.ts): profiles as data, cfssl's fallback rules, and the
// places where etcd-tls is louder or stricter than cfssl (unknown keys, unknown usages, unknown profile).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { ErrorCode } from '../../src/errors.js';
import { parseSigningConfig, selectProfile } from '../../src/cfssl/config.js';
import { CFSSL_DEFAULT_PROFILE } from '../../src/pki/profile.js';
import { REPO_ROOT } from '../helpers/components.js';
import { rejects as assertFails } from '../helpers/assertions.js';

const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'cfssl');
const fixture = (name: string): string => readFileSync(path.join(FIXTURES, name), 'utf8');
const HOUR = 3_600_000;

function parse(text: string, source = 'ca-config.json'): { config: ReturnType<typeof parseSigningConfig>; warnings: string[] } {
  const warnings: string[] = [];
  const config = parseSigningConfig(text, source, (m) => warnings.push(m));
  return { config, warnings };
}


describe('the blog config (ca-config.json)', () => {
  const { config, warnings } = parse(fixture('ca-config.json'));

  test('parses without warnings into three profiles and a usage-less default', () => {
    assert.deepEqual(warnings, []);
    assert.deepEqual([...config.profiles.keys()], ['server', 'client', 'peer']);
    assert.equal(config.default.profile.expiryMs, 43800 * HOUR);
  });

  test('maps the usage strings onto key usages and EKUs', () => {
    const { server, client, peer } = Object.fromEntries([...config.profiles].map(([k, v]) => [k, v.profile.usages]));
    assert.deepEqual(server?.keyUsage, ['digitalSignature', 'keyEncipherment']);
    assert.deepEqual(server?.extKeyUsage, ['serverAuth']);
    assert.deepEqual(client?.extKeyUsage, ['clientAuth']);
    assert.deepEqual(peer?.extKeyUsage, ['serverAuth', 'clientAuth']);
  });

  test('selectProfile: a named profile, and the usage-less default fails naming the profiles to use', () => {
    assert.equal(selectProfile(config, 'peer').name, 'peer');
    assertFails(() => selectProfile(config, undefined), 'NO_USAGES', /^ca-config\.json: signing\.default: has no usages.*-profile \(client, peer, server\)/);
  });

  test('an unknown -profile is UNKNOWN_PROFILE listing the profiles (cfssl falls back to the default)', () => {
    assertFails(() => selectProfile(config, 'sever'), 'UNKNOWN_PROFILE', /^-profile sever: no such profile \(ca-config\.json has: client, peer, server\)$/);
  });
});

describe('selectProfile without a config', () => {
  test('no name gives the built-in default profile; any name is unknown', () => {
    assert.equal(selectProfile(undefined, undefined), CFSSL_DEFAULT_PROFILE);
    assertFails(() => selectProfile(undefined, 'server'), 'UNKNOWN_PROFILE', /no -config was given/);
  });
});

describe('every profile field (config-full.json)', () => {
  const { config, warnings } = parse(fixture('config-full.json'), 'config-full.json');
  const p = (name: string) => config.profiles.get(name)?.profile;

  test('keys match case-insensitively, as in Go ("Expiry", "Usages")', () => {
    assert.deepEqual(warnings, []);
    assert.equal(p('server')?.expiryMs, 720 * HOUR);
    assert.deepEqual(p('server')?.usages.extKeyUsage, ['serverAuth', 'clientAuth']);
  });

  test('backdate, name_whitelist, ocsp_no_check and policies', () => {
    const server = p('server');
    assert.equal(server?.backdateMs, HOUR);
    assert.ok(server?.nameWhitelist?.test('etcd1.example'));
    assert.ok(!server?.nameWhitelist?.test('etcd1.example.org'));
    assert.equal(server?.ocspNoCheck, true);
    assert.deepEqual(server?.policies, [{ id: '2.23.140.1.2.1', qualifiers: [{ type: 'id-qt-cps', value: 'http://cps.example/' }] }]);
  });

  test('only expiry, ocsp_url, crl_url and issuer_urls fall back to the default profile', () => {
    const inter = p('intermediate');
    assert.equal(inter?.expiryMs, 8760 * HOUR, 'expiry from the default');
    assert.deepEqual(inter?.ocspUrls, ['http://ocsp.example/']);
    assert.deepEqual(inter?.crlUrls, ['http://crl.example/intermediate.crl'], 'its own crl_url wins');
    assert.deepEqual(inter?.issuerUrls, ['http://ca.example/ca.pem']);
    assert.deepEqual(inter?.usages.extKeyUsage, [], 'usages are not inherited');
    assert.equal(p('server')?.backdateMs, HOUR);
    assert.equal(p('fixed')?.backdateMs, 5 * 60_000, 'backdate is not inherited');
  });

  test('ca_constraint: pathlen 0 only with max_path_len_zero', () => {
    assert.deepEqual(p('intermediate')?.caConstraint, { isCA: true, maxPathLen: 0 });
    const noZero = parse('{"signing":{"profiles":{"i":{"expiry":"1h","usages":["cert sign"],"ca_constraint":{"is_ca":true,"max_path_len":0}}}}}');
    assert.deepEqual(noZero.config.profiles.get('i')?.profile.caConstraint, { isCA: true });
    const two = parse('{"signing":{"profiles":{"i":{"expiry":"1h","usages":["cert sign"],"ca_constraint":{"is_ca":true,"max_path_len":2}}}}}');
    assert.deepEqual(two.config.profiles.get('i')?.profile.caConstraint, { isCA: true, maxPathLen: 2 });
  });

  test('not_before / not_after fix the validity window', () => {
    assert.deepEqual([p('fixed')?.notBefore?.toISOString(), p('fixed')?.notAfter?.toISOString()], ['2030-01-01T00:00:00.000Z', '2031-01-01T00:00:00.000Z']);
  });

  test('auth_keys are parsed and referenced', () => {
    assert.deepEqual(config.authKeys.get('primary'), { type: 'standard', key: '0123456789ABCDEF0123456789ABCDEF' });
  });
});

describe('remote signing (config-remote.json)', () => {
  const { config, warnings } = parse(fixture('config-remote.json'), 'config-remote.json');

  test('parses, with one warning that remote profiles sign only in -remote mode', () => {
    assert.deepEqual(warnings, ['config-remote.json: remotes: profiles that name a remote sign only in -remote mode (gencert, sign, info), not with a local CA']);
  });

  test('a local profile still signs; a remote one is BAD_CONFIG', () => {
    assert.equal(selectProfile(config, 'client').name, 'client');
    assertFails(() => selectProfile(config, undefined), 'BAD_CONFIG', /^config-remote\.json: signing\.default: uses remote signer "ca-server"; it signs only in -remote mode/);
    assertFails(() => selectProfile(config, 'forwarded'), 'BAD_CONFIG', /signing\.profiles\.forwarded: uses remote signer/);
  });
});

describe('warnings name what cfssl would ignore silently', () => {
  const cases: [string, string, string[]][] = [
    [
      'an unknown key, with a suggestion',
      '{"signing":{"profiles":{"s":{"expiry":"1h","usages":["server auth"],"usage":["client auth"]}}}}',
      ['ca-config.json: signing.profiles.s: unknown key "usage"; ignored (did you mean "usages"?)'],
    ],
    [
      'an unknown usage string',
      '{"signing":{"profiles":{"s":{"expiry":"1h","usages":["server auth","sever auth"]}}}}',
      ['ca-config.json: signing.profiles.s.usages[1]: unknown usage "sever auth"; ignored (cfssl drops it silently too)'],
    ],
    [
      'a setting cfssl knows that etcd-tls does not act on',
      '{"signing":{"default":{"expiry":"1h","ct_log_servers":["https://ct.example"]}}}',
      ['ca-config.json: signing.default: "ct_log_servers" is not supported by etcd-tls (certificates are not submitted to CT logs); ignored'],
    ],
    [
      'a duplicate key (the last one wins, as in Go)',
      '{"signing":{"default":{"expiry":"1h","expiry":"2h"}}}',
      ['ca-config.json: signing.default: duplicate key "expiry"; the last value wins'],
    ],
    ['an unknown top-level key', '{"signing":{},"remote":{}}', ['ca-config.json: unknown key "remote"; ignored (did you mean "remotes"?)']],
    ['an unknown key with nothing close to it', '{"signing":{},"colour":1}', ['ca-config.json: unknown key "colour"; ignored']],
  ];
  for (const [name, text, expected] of cases) {
    test(name, () => assert.deepEqual(parse(text).warnings, expected));
  }

  test('the duplicate key really resolves to the last value', () => {
    assert.equal(parse('{"signing":{"default":{"expiry":"1h","expiry":"2h"}}}').config.default.profile.expiryMs, 2 * HOUR);
  });
});

describe('config errors name the file and the field', () => {
  const cases: [string, string, ErrorCode, RegExp][] = [
    ['malformed JSON', fixture('bad-config-malformed.json'), 'BAD_JSON', /^ca-config\.json:4:3: trailing comma before '}'$/],
    ['no signing section', fixture('bad-config-no-signing.json'), 'MISSING_FIELD', /^ca-config\.json: signing: missing/],
    ['a bad expiry', fixture('bad-config-expiry.json'), 'BAD_DURATION', /^ca-config\.json: signing\.default\.expiry: "5 years" is not a duration/],
    ['a profile with no known usage', fixture('bad-config-no-usages.json'), 'BAD_CONFIG', /^ca-config\.json: signing\.profiles\.server: none of its usages is a usage cfssl knows/],
    ['a profile without usages', '{"signing":{"profiles":{"p":{"expiry":"1h"}}}}', 'BAD_CONFIG', /signing\.profiles\.p: has no "usages"/],
    ['a default without expiry', '{"signing":{"default":{"usages":["server auth"]}}}', 'MISSING_FIELD', /signing\.default\.expiry: missing/],
    ['a wrong type', '{"signing":{"default":{"expiry":8760}}}', 'BAD_FIELD', /^ca-config\.json: signing\.default\.expiry: expected a string, got number$/],
    ['usages not a list', '{"signing":{"default":{"expiry":"1h","usages":"server auth"}}}', 'BAD_FIELD', /signing\.default\.usages: expected a list of strings, got string$/],
    ['profiles not objects', '{"signing":{"profiles":{"p":[]}}}', 'BAD_FIELD', /signing\.profiles\.p: expected an object, got array$/],
    ['not_after before not_before', '{"signing":{"default":{"expiry":"1h","not_before":"2031-01-01T00:00:00Z","not_after":"2030-01-01T00:00:00Z"}}}', 'BAD_CONFIG', /not_after 2030-01-01T00:00:00\.000Z is not after not_before/],
    ['a time that is not RFC 3339', '{"signing":{"default":{"expiry":"1h","not_after":"2030-01-01"}}}', 'BAD_DURATION', /signing\.default\.not_after: "2030-01-01" is not an RFC 3339 time/],
    ['a bad name_whitelist', '{"signing":{"default":{"expiry":"1h","name_whitelist":"(["}}}', 'BAD_CONFIG', /signing\.default\.name_whitelist: not a valid regular expression in RE2 syntax/],
    ['an unknown auth_key', '{"signing":{"default":{"expiry":"1h","auth_key":"nope"}}}', 'BAD_CONFIG', /signing\.default\.auth_key: "nope" is not in "auth_keys"/],
    ['a bad policy qualifier', '{"signing":{"default":{"expiry":"1h","policies":[{"ID":"1.2.3","Qualifiers":[{"type":"x"}]}]}}}', 'BAD_CONFIG', /policies\[0\]\.Qualifiers\[0\]\.type: "x" must be id-qt-cps or id-qt-unotice/],
    ['a policy ID that is not an OID', '{"signing":{"default":{"expiry":"1h","policies":[{"ID":"abc"}]}}}', 'BAD_FIELD', /policies\[0\]\.ID: "abc" is not a dotted OID/],
    // Regression: the encoder's second-arc rule used to surface only at issuance, as an internal TypeError.
    ['a policy ID with a second arc of 40 under arc 1', '{"signing":{"default":{"expiry":"1h","policies":[{"ID":"1.50"}]}}}', 'BAD_FIELD', /policies\[0\]\.ID: "1\.50" is not a valid OID \(under arc 0 or 1 the second arc must be below 40\)/],
    ['not an object at all', '["signing"]', 'BAD_FIELD', /^ca-config\.json: expected a JSON object at the top level, got array$/],
  ];
  for (const [name, text, code, message] of cases) {
    test(name, () => assertFails(() => parse(text), code, message));
  }
});
