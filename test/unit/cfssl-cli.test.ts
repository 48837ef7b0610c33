// The cfssl-compatible commands through the real CLI (`node bin/etcd-tls ...`), as a user runs them:
// every error is one line `etcd-tls: CODE: <file/field>: ...`, exit 1, no stack trace, nothing written.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { etcdTls, REPO_ROOT, type RunResult } from '../helpers/components.js';
import { makeTempDir } from '../helpers/tmp.js';

const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'cfssl');
const fx = (name: string): string => path.join(FIXTURES, name);
const mode = (file: string): number => statSync(file).mode & 0o777;

interface ErrorCase {
  name: string;
  args: string[];
  stdin?: string;
  code: string;
  /** Must name the file and the field (or the flag). */
  message: RegExp;
}

/** Assert the one-line error contract and that the command printed and wrote nothing. */
function assertOneLineError(r: RunResult, code: string, message: RegExp, dirBefore: string[], dir: string): void {
  assert.equal(r.code, 1, `exit ${r.code}\nstderr: ${r.stderr}`);
  assert.equal(r.stdout, '', 'nothing on stdout');
  const lines = r.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('etcd-tls: warning: '));
  assert.equal(lines.length, 1, `one error line, got:\n${r.stderr}`);
  const m = /^etcd-tls: ([A-Z_]+): (.*)$/.exec(lines[0] as string);
  assert.ok(m, `not "etcd-tls: CODE: message": ${lines[0]}`);
  assert.equal(m[1], code, lines[0]);
  assert.match(m[2] as string, message);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  assert.deepEqual(readdirSync(dir).sort(), dirBefore, 'no file written');
}

let shortCa = '';
let work = '';
before(async () => {
  // A CA valid for 2 hours, made with our own CLI: any leaf of the blog config (43800h) outlives it.
  work = await makeTempDir('file', 'cfssl-cli-');
  const r = await etcdTls(['gencert', '-initca', '-'], { stdin: '{"CN":"short-lived CA","ca":{"expiry":"2h"}}', cwd: work });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { cert: string; key: string };
  shortCa = path.join(work, 'short');
  writeFileSync(`${shortCa}.pem`, out.cert);
  writeFileSync(`${shortCa}-key.pem`, out.key, { mode: 0o600 });
});

describe('errors: one line naming file and field, exit 1, nothing written', { concurrency: 2 }, () => {
  const ca = ['-ca=openssl-ca.pem', '-ca-key=openssl-ca-key.pem'];
  const leafJson = '{"CN":"x","hosts":["127.0.0.1"]}';
  const cases: ErrorCase[] = [
    { name: 'malformed JSON', args: ['gencert', '-initca', 'bad-malformed.json'], code: 'BAD_JSON', message: /^bad-malformed\.json:1:13: unexpected end of input/ },
    { name: 'a wrong type', args: ['gencert', '-initca', 'bad-size-type.json'], code: 'BAD_FIELD', message: /^bad-size-type\.json: key\.size: expected a number, got string$/ },
    { name: 'rsa 1024', args: ['gencert', ...ca, 'bad-rsa-1024.json'], code: 'BAD_KEY_SPEC', message: /^bad-rsa-1024\.json: key: RSA key size 1024 is too weak/ },
    { name: 'ecdsa 255', args: ['genkey', 'bad-ecdsa-255.json'], code: 'BAD_KEY_SPEC', message: /^bad-ecdsa-255\.json: key: ECDSA size 255 is not a supported curve/ },
    { name: 'a bad duration in the config', args: ['gencert', ...ca, '-config=bad-config-expiry.json', 'ca-csr.json'], code: 'BAD_DURATION', message: /^bad-config-expiry\.json: signing\.default\.expiry: "5 years" is not a duration/ },
    { name: 'malformed config', args: ['sign', ...ca, '-config', 'bad-config-malformed.json', 'csr-fixture.csr'], code: 'BAD_JSON', message: /^bad-config-malformed\.json:4:3: trailing comma/ },
    { name: 'CA certificate and key do not match', args: ['gencert', '-ca=openssl-ca.pem', '-ca-key=other-key.pem', '-'], stdin: leafJson, code: 'KEY_MISMATCH', message: /^other-key\.pem: this private key does not belong to the CA certificate openssl-ca\.pem$/ },
    { name: 'a CSR with a bad signature', args: ['sign', ...ca, 'bad-signature.csr'], code: 'BAD_CSR_SIGNATURE', message: /^bad-signature\.csr: the CSR's signature does not verify/ },
    { name: 'an issuer that is not a CA', args: ['sign', '-ca', 'leaf.pem', '-ca-key', 'leaf-key.pem', 'csr-fixture.csr'], code: 'NOT_A_CA', message: /^leaf\.pem: is not a CA certificate/ },
    { name: 'a missing file', args: ['gencert', '-ca=nope.pem', '-ca-key=openssl-ca-key.pem', '-'], stdin: leafJson, code: 'FILE_NOT_FOUND', message: /^nope\.pem: CA certificate does not exist$/ },
    { name: 'a missing config file', args: ['gencert', ...ca, '-config=nope.json', '-'], stdin: leafJson, code: 'FILE_NOT_FOUND', message: /^nope\.json: config file does not exist$/ },
    { name: 'a directory where a file belongs', args: ['gencert', '-initca', '.'], code: 'FILE_UNREADABLE', message: /^\.: CSR JSON is a directory, not a file$/ },
    { name: 'PEM with garbage', args: ['gencert', '-ca=bad-garbage.pem', '-ca-key=openssl-ca-key.pem', '-'], stdin: leafJson, code: 'BAD_PEM', message: /^bad-garbage\.pem: PEM block "CERTIFICATE" has characters outside base64$/ },
    { name: 'a certificate given as the CA key', args: ['gencert', '-ca=openssl-ca.pem', '-ca-key=openssl-ca.pem', '-'], stdin: leafJson, code: 'BAD_PEM', message: /^openssl-ca\.pem: expected a PEM private key, found "CERTIFICATE"$/ },
    { name: 'a JSON file given as the CA', args: ['gencert', '-ca=ca-csr.json', '-ca-key=openssl-ca-key.pem', '-'], stdin: leafJson, code: 'BAD_PEM', message: /^ca-csr\.json: expected a PEM "CERTIFICATE" block, found no PEM block$/ },
    { name: 'empty stdin', args: ['gencert', '-initca', '-'], stdin: '', code: 'EMPTY_INPUT', message: /^stdin: CSR JSON is empty$/ },
    { name: 'empty stdin for json', args: ['json', '-bare', 'x'], stdin: '  \n', code: 'EMPTY_INPUT', message: /^stdin: cfssl JSON is empty$/ },
    { name: '-initca with no CN and no names', args: ['gencert', '-initca', 'bad-empty-subject.json'], code: 'EMPTY_SUBJECT', message: /^bad-empty-subject\.json: a CA needs a subject/ },
    { name: 'a ca section outside -initca', args: ['gencert', ...ca, 'bad-ca-section.json'], code: 'BAD_FIELD', message: /^bad-ca-section\.json: ca: a "ca" section is only permitted with -initca/ },
    { name: 'an unknown -profile', args: ['gencert', ...ca, '-config=ca-config.json', '-profile=sever', '-'], stdin: leafJson, code: 'UNKNOWN_PROFILE', message: /^-profile sever: no such profile \(ca-config\.json has: client, peer, server\)$/ },
    { name: 'the default profile of the blog config has no usages', args: ['gencert', ...ca, '-config=ca-config.json', '-'], stdin: leafJson, code: 'NO_USAGES', message: /^ca-config\.json: signing\.default: has no usages/ },
    { name: 'a missing -ca (cfssl exits 0)', args: ['gencert', '-ca-key=openssl-ca-key.pem', '-'], stdin: leafJson, code: 'MISSING_FLAG', message: /^gencert: -ca is required/ },
    { name: 'a missing -ca-key', args: ['sign', '-ca=openssl-ca.pem', 'csr-fixture.csr'], code: 'MISSING_FLAG', message: /^sign: -ca-key is required/ },
    { name: 'an empty -hostname entry', args: ['gencert', ...ca, '-hostname=a.example,,b.example', '-'], stdin: leafJson, code: 'BAD_HOSTNAME', message: /^-hostname: entry 2 is empty$/ },
    { name: 'an invalid IP in -hostname', args: ['gencert', ...ca, '-hostname', '10.1.2.256', '-'], stdin: leafJson, code: 'BAD_HOSTNAME', message: /^-hostname: "10\.1\.2\.256" is not a valid IP address$/ },
    { name: 'an invalid hostname in JSON hosts', args: ['gencert', ...ca, 'bad-hosts.json'], code: 'BAD_HOSTNAME', message: /^bad-hosts\.json: hosts: "10\.0\.0\.300" is not a valid IP address$/ },
    { name: 'an unknown flag', args: ['gencert', '-initca', '-bogus', 'ca-csr.json'], code: 'USAGE', message: /^gencert: Unknown option '-b'/ },
    { name: 'no CSRJSON argument', args: ['gencert', '-initca'], code: 'USAGE', message: /^gencert: expected one CSRJSON argument/ },
    { name: 'remote signing, nothing listening', args: ['gencert', '-remote=127.0.0.161:65531', 'ca-csr.json'], code: 'REMOTE_FAILED', message: /127\.0\.0\.161:65531\/api\/v1\/cfssl\/sign: cannot reach the signing server \(ECONNREFUSED\)/ },
    { name: 'remote signing, malformed address', args: ['gencert', '-remote=http://[x', 'ca-csr.json'], code: 'USAGE', message: /-remote "http:\/\/\[x": not a valid URL/ },
    { name: 'an unknown print-defaults type (cfssl prints the list and exits 0)', args: ['print-defaults', 'cnofig'], code: 'USAGE', message: /^print-defaults: unknown type "cnofig"/ },
    { name: 'certinfo of a CSR given as -cert', args: ['certinfo', '-cert', 'csr-fixture.csr'], code: 'BAD_PEM', message: /^csr-fixture\.csr: expected a PEM "CERTIFICATE" block, found "CERTIFICATE REQUEST"$/ },
    { name: 'json without -bare on command output', args: ['json', 'x'], stdin: '{"cert":"-----BEGIN CERTIFICATE-----\\n"}', code: 'MISSING_FIELD', message: /^stdin: success: missing .*pass -bare$/ },
    { name: 'json with nothing to write', args: ['json', '-bare', 'x'], stdin: '{"certificat":"x"}', code: 'MISSING_FIELD', message: /^stdin: no "cert", "key" or "csr" field/ },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const before = readdirSync(FIXTURES).sort();
      const r = await etcdTls(c.args, { cwd: FIXTURES, ...(c.stdin !== undefined ? { stdin: c.stdin } : {}) });
      assertOneLineError(r, c.code, c.message, before, FIXTURES);
    });
  }

  test('a leaf that would outlive its CA is OUTLIVES_CA naming both dates (cfssl issues it)', async () => {
    const before = readdirSync(FIXTURES).sort();
    const r = await etcdTls(['gencert', `-ca=${shortCa}.pem`, `-ca-key=${shortCa}-key.pem`, '-config=ca-config.json', '-profile=peer', '-'], {
      cwd: FIXTURES,
      stdin: '{"CN":"member1","hosts":["127.0.0.1"]}',
    });
    assertOneLineError(r, 'OUTLIVES_CA', /would be valid until 20\d\d-\d\d-\d\dT\d\d:\d\d:00Z, after its CA .*short\.pem expires at 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ/, before, FIXTURES);
  });
});

describe('json (cfssljson)', () => {
  test('writes NAME.pem 0644, NAME-key.pem 0600, NAME.csr 0644; ignores the trailing "-"', async (t) => {
    const dir = await makeTempDir(t, 'json-');
    const gen = await etcdTls(['gencert', '-initca', fx('csr-ou-list.json')]);
    assert.equal(gen.code, 0, gen.stderr);
    const r = await etcdTls(['json', '-bare', 'ca', '-'], { cwd: dir, stdin: gen.stdout });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout + r.stderr, '');
    assert.deepEqual(readdirSync(dir).sort(), ['ca-key.pem', 'ca.csr', 'ca.pem']);
    assert.deepEqual([mode(path.join(dir, 'ca.pem')), mode(path.join(dir, 'ca-key.pem')), mode(path.join(dir, 'ca.csr'))], [0o644, 0o600, 0o644]);
    const out = JSON.parse(gen.stdout) as Record<string, string>;
    assert.equal(readFileSync(path.join(dir, 'ca.pem'), 'utf8'), out.cert);
    assert.equal(readFileSync(path.join(dir, 'ca-key.pem'), 'utf8'), out.key);
  });

  test('a key file that replaces a 0644 file ends up 0600 (cfssljson keeps the old mode)', async (t) => {
    const dir = await makeTempDir(t, 'json-mode-');
    writeFileSync(path.join(dir, 'client-key.pem'), 'old');
    chmodSync(path.join(dir, 'client-key.pem'), 0o644);
    const gen = await etcdTls(['genkey', '-'], { stdin: '{"CN":"client"}' });
    const r = await etcdTls(['json', '-bare', 'client'], { cwd: dir, stdin: gen.stdout });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(mode(path.join(dir, 'client-key.pem')), 0o600);
    assert.match(readFileSync(path.join(dir, 'client-key.pem'), 'utf8'), /^-----BEGIN EC PRIVATE KEY-----/);
  });

  test("keeps an existing CA key when ca.pem is missing or in DER form: what is on disk decides, not which companion exists", async (t) => {
    for (const companion of ['missing', 'der'] as const) {
      const dir = await makeTempDir(t, `json-ca-${companion}-`);
      const first = await etcdTls(['gencert', '-initca', '-'], { stdin: '{"CN":"CA one"}' });
      assert.equal((await etcdTls(['json', '-bare', 'ca'], { cwd: dir, stdin: first.stdout })).code, 0);
      const keyBefore = readFileSync(path.join(dir, 'ca-key.pem'), 'utf8');
      const caPem = path.join(dir, 'ca.pem');
      if (companion === 'missing') rmSync(caPem);
      else writeFileSync(caPem, new X509Certificate(readFileSync(caPem)).raw);
      // A new CA's JSON without its cert (what a user trimming the output may pipe in).
      const second = JSON.parse((await etcdTls(['gencert', '-initca', '-'], { stdin: '{"CN":"CA two"}' })).stdout) as Record<string, string>;
      const r = await etcdTls(['json', '-bare', 'ca'], { cwd: dir, stdin: JSON.stringify({ key: second.key }) });
      assert.equal(r.code, 1, `${companion}: ${r.stderr}`);
      assert.match(r.stderr, /^etcd-tls: WOULD_OVERWRITE: ca-key\.pem: [^\n]+\n$/);
      assert.equal(readFileSync(path.join(dir, 'ca-key.pem'), 'utf8'), keyBefore, `${companion}: the CA key was replaced`);
    }
  });

  test("never replaces an existing CA's key without -force (WOULD_OVERWRITE), and does with it", async (t) => {
    const dir = await makeTempDir(t, 'json-ca-');
    const first = await etcdTls(['gencert', '-initca', '-'], { stdin: '{"CN":"CA one"}' });
    assert.equal((await etcdTls(['json', '-bare', 'ca'], { cwd: dir, stdin: first.stdout })).code, 0);
    const keyBefore = readFileSync(path.join(dir, 'ca-key.pem'), 'utf8');
    const second = await etcdTls(['gencert', '-initca', '-'], { stdin: '{"CN":"CA two"}' });

    const refused = await etcdTls(['json', '-bare', 'ca'], { cwd: dir, stdin: second.stdout });
    assertOneLineError(refused, 'WOULD_OVERWRITE', /^ca-key\.pem: is the key of the CA ca\.pem; refusing to replace it/, ['ca-key.pem', 'ca.csr', 'ca.pem'], dir);
    assert.equal(readFileSync(path.join(dir, 'ca-key.pem'), 'utf8'), keyBefore, 'the CA key is untouched');

    const same = await etcdTls(['json', '-bare', 'ca'], { cwd: dir, stdin: first.stdout });
    assert.equal(same.code, 0, `writing the identical key again is fine: ${same.stderr}`);

    const forced = await etcdTls(['json', '-bare', '-force', 'ca'], { cwd: dir, stdin: second.stdout });
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(readFileSync(path.join(dir, 'ca-key.pem'), 'utf8'), (JSON.parse(second.stdout) as { key: string }).key);
  });

  test('reads an API envelope without -bare, -f FILE, and -stdout prints instead of writing', async (t) => {
    const dir = await makeTempDir(t, 'json-env-');
    const gen = await etcdTls(['genkey', '-'], { stdin: '{"CN":"x"}' });
    const out = JSON.parse(gen.stdout) as { csr: string; key: string };
    const envelope = JSON.stringify({ success: true, result: { certificate_request: out.csr, private_key: out.key }, errors: [], messages: [] });
    writeFileSync(path.join(dir, 'resp.json'), envelope);
    const r = await etcdTls(['json', '-f=resp.json', 'node'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(dir).sort(), ['node-key.pem', 'node.csr', 'resp.json']);
    const printed = await etcdTls(['json', '-stdout', '-f', 'resp.json'], { cwd: dir });
    assert.equal(printed.stdout, `${out.key}\n${out.csr}\n`, 'cfssljson order: key before csr, each plus a newline');
    assert.ok(!existsSync(path.join(dir, 'cert.pem')));
  });

  test('a failed API response is reported with its messages', async () => {
    const r = await etcdTls(['json'], { stdin: '{"success":false,"result":null,"errors":[{"code":5100,"message":"Invalid policy"}]}' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^etcd-tls: BAD_FIELD: stdin: the request failed: Invalid policy\n$/);
  });
});

describe('output and flags', () => {
  test('gencert prints one line of compact JSON with sorted keys, and only the duplicate-OU warning', async () => {
    const r = await etcdTls(['gencert', '-initca', fx('ca-csr.json')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\{"cert":"-----BEGIN CERTIFICATE-----\\n[^\n]*","csr":"-----BEGIN CERTIFICATE REQUEST-----\\n[^\n]*","key":"-----BEGIN RSA PRIVATE KEY-----\\n[^\n]*"\}\n$/);
    assert.equal(r.stderr, `etcd-tls: warning: ${fx('ca-csr.json')}: names[0]: duplicate key "OU"; keeping both values\n`);
  });

  test('Go-style -flag=value and -flag value both work; -cn overrides the CN', async () => {
    for (const args of [['-ca=openssl-ca.pem', '-ca-key=openssl-ca-key.pem'], ['-ca', 'openssl-ca.pem', '--ca-key', 'openssl-ca-key.pem']]) {
      const r = await etcdTls(['gencert', ...args, '-cn', 'override', '-hostname=10.0.0.1', '-'], { cwd: FIXTURES, stdin: '{"CN":"x"}' });
      assert.equal(r.code, 0, r.stderr);
      const info = await etcdTls(['certinfo', '-cert', '-'], { stdin: (JSON.parse(r.stdout) as { cert: string }).cert });
      const parsed = JSON.parse(info.stdout) as { subject: { common_name: string }; sans: string[] };
      assert.equal(parsed.subject.common_name, 'override');
      assert.deepEqual(parsed.sans, ['10.0.0.1']);
    }
  });

  test('gencert -pkcs8 and genkey -pkcs8 write PKCS#8 keys (cfssl #848)', async () => {
    const a = await etcdTls(['gencert', '-initca', '-pkcs8', '-'], { stdin: '{"CN":"ca","key":{"algo":"rsa","size":2048}}' });
    const b = await etcdTls(['genkey', '-pkcs8', '-'], { stdin: '{"CN":"x"}' });
    for (const r of [a, b]) {
      assert.equal(r.code, 0, r.stderr);
      assert.match((JSON.parse(r.stdout) as { key: string }).key, /^-----BEGIN PRIVATE KEY-----\n/);
    }
  });

  test('genkey prints {csr,key}; selfsign prints {cert,csr,key} and one warning', async () => {
    const g = await etcdTls(['genkey', '-'], { stdin: '{"CN":"x"}' });
    assert.deepEqual(Object.keys(JSON.parse(g.stdout) as object), ['csr', 'key']);
    const s = await etcdTls(['selfsign', 'localhost,127.0.0.1', '-'], { stdin: '{"CN":"x"}' });
    assert.equal(s.code, 0, s.stderr);
    assert.deepEqual(Object.keys(JSON.parse(s.stdout) as object), ['cert', 'csr', 'key']);
    assert.match(s.stderr, /^etcd-tls: warning: selfsign: a self-signed certificate is trusted by nothing/);
  });

  test('sign prints {cert,csr} echoing the CSR', async () => {
    const csr = readFileSync(fx('csr-fixture.csr'), 'utf8');
    const r = await etcdTls(['sign', '-ca', 'openssl-ca.pem', '-ca-key', 'openssl-ca-key.pem', 'csr-fixture.csr'], { cwd: FIXTURES });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { cert: string; csr: string };
    assert.deepEqual(Object.keys(out), ['cert', 'csr']);
    assert.equal(out.csr, csr);
  });

  test('print-defaults list', async () => {
    const r = await etcdTls(['print-defaults', 'list']);
    assert.equal(r.stdout, 'Default configurations are available for:\n\tconfig\n\tcsr\n');
  });

  test('every command has --help with usage, options and an example', async () => {
    for (const cmd of ['gencert', 'sign', 'genkey', 'selfsign', 'certinfo', 'print-defaults', 'json']) {
      const r = await etcdTls([cmd, '--help']);
      assert.equal(r.code, 0, `${cmd}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Usage: etcd-tls ${cmd} `), cmd);
      assert.match(r.stdout, /\nOptions:\n/, cmd);
      assert.match(r.stdout, /\nExamples?:\n {2}etcd-tls /, cmd);
    }
  });
});

describe('certinfo', () => {
  test('-cert: cfssl fields, both OUs, upper-case colon key IDs', async () => {
    const gen = await etcdTls(['gencert', '-initca', fx('ca-csr.json')]);
    const { cert } = JSON.parse(gen.stdout) as { cert: string };
    const r = await etcdTls(['certinfo', '-cert', '-'], { stdin: cert });
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout) as Record<string, unknown> & { subject: Record<string, unknown> };
    assert.deepEqual(Object.keys(info), ['subject', 'issuer', 'serial_number', 'not_before', 'not_after', 'sigalg', 'authority_key_id', 'subject_key_id', 'pem']);
    assert.deepEqual(info.subject, {
      common_name: 'My own CA',
      country: 'US',
      organization: 'My Company Name',
      organizational_unit: 'Org Unit 1,Org Unit 2',
      locality: 'CA',
      province: 'San Francisco',
      names: ['US', 'San Francisco', 'CA', 'My Company Name', 'Org Unit 1', 'Org Unit 2', 'My own CA'],
    });
    assert.match(String(info.subject_key_id), /^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
    assert.equal(info.pem, cert);
    assert.match(r.stdout, /^\{\n {2}"subject": \{\n {4}"common_name"/, 'indented like json.MarshalIndent');
  });

  test('-csr: the request as Go marshals it', async () => {
    const r = await etcdTls(['certinfo', '-csr', fx('csr-fixture.csr')]);
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout) as Record<string, unknown> & { Subject: { CommonName: string; Organization: string[] } };
    assert.equal(info.Subject.CommonName, 'csr-fixture');
    assert.deepEqual(info.Subject.Organization, ['etcd-tls fixtures']);
    assert.deepEqual([info.DNSNames, info.IPAddresses, info.SignatureAlgorithm, info.PublicKeyAlgorithm], [['csr.example'], ['127.0.0.21'], 4, 1]);
  });

  test('-domain: the certificate a TLS server presents', async () => {
    const gen = await etcdTls(['selfsign', '127.0.0.22', '-'], { stdin: '{"CN":"served"}' });
    const { cert, key } = JSON.parse(gen.stdout) as { cert: string; key: string };
    const server: Server = createServer({ cert, key }, (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.22', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const r = await etcdTls(['certinfo', `-domain=127.0.0.22:${port}`]);
      assert.equal(r.code, 0, r.stderr);
      const info = JSON.parse(r.stdout) as { subject: { common_name: string }; sans: string[] };
      assert.equal(info.subject.common_name, 'served');
      assert.deepEqual(info.sans, ['127.0.0.22']);
    } finally {
      server.close();
    }
  });

  test('-domain on a closed port is PROBE_FAILED', async () => {
    const r = await etcdTls(['certinfo', '-domain', '127.0.0.22:1']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^etcd-tls: PROBE_FAILED: 127\.0\.0\.22:1: connect ECONNREFUSED/);
  });
});

describe('fixtures', () => {
  test('every bad-* fixture is described in the README', () => {
    const readme = readFileSync(fx('README.md'), 'utf8');
    for (const f of readdirSync(FIXTURES).filter((n) => n !== 'README.md')) assert.ok(readme.includes(f), `${f} is not in README.md`);
  });
});
