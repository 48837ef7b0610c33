// cfssl 1.2.0 (the blog's release) as the compatibility oracle: it reads what we issue, we sign with
// what it makes, and the outputs that are meant to be identical are compared byte for byte.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { etcdTls, findBinary, REPO_ROOT, requireBinary, run } from '../helpers/components.js';
import { makeTempDir } from '../helpers/tmp.js';

const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'cfssl');
const LEAF = '{"CN":"member1","hosts":["10.93.81.17","127.0.0.1"],"key":{"algo":"rsa","size":2048}}';

async function ok(cmd: string, args: string[], cwd: string, stdin?: string): Promise<string> {
  const opts = { cwd, ...(stdin !== undefined ? { stdin } : {}) };
  // cfssl's [INFO] lines would only clutter a failure message; -loglevel goes after the command name.
  const cfsslArgs = cmd === 'cfssl' ? [args[0] as string, '-loglevel=5', ...args.slice(1)] : args;
  const r = cmd === 'etcd-tls' ? await etcdTls(args, opts) : await run(cmd, cfsslArgs, opts);
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')}:\n${r.stderr}`);
  return r.stdout;
}

async function verify(dir: string, ca: string, cert: string): Promise<void> {
  const r = await run('openssl', ['verify', '-x509_strict', '-CAfile', ca, cert], { cwd: dir });
  assert.equal(r.code, 0, `openssl verify ${cert}: ${r.stdout}${r.stderr}`);
}

const haveAll = (): boolean => ['cfssl', 'cfssljson', 'openssl'].every((b) => findBinary(b) !== null);
function requireAll(t: Parameters<typeof requireBinary>[0]): boolean {
  return requireBinary(t, 'cfssl') && requireBinary(t, 'cfssljson') && requireBinary(t, 'openssl');
}

let dir = '';
before(async () => {
  if (!haveAll()) return;
  dir = await makeTempDir('file', 'interop-cfssl-');
  for (const f of ['ca-config.json', 'ca-csr.json']) copyFileSync(path.join(FIXTURES, f), path.join(dir, f));
  // Our CA (ours-ca.pem) and cfssl's CA (cfssl-ca.pem), both from the blog's ca-csr.json.
  await ok('etcd-tls', ['json', '-bare', 'ours-ca'], dir, await ok('etcd-tls', ['gencert', '-initca', 'ca-csr.json'], dir));
  const cfsslCa = await ok('cfssl', ['gencert', '-initca', 'ca-csr.json'], dir);
  await ok('cfssljson', ['-bare', 'cfssl-ca'], dir, cfsslCa);
});

describe('cfssl reads our certificates', () => {
  test('cfssl certinfo -cert agrees with ours on subject, issuer, serial, SANs, validity and algorithm', async (t) => {
    if (!requireAll(t)) return;
    const leaf = await ok('etcd-tls', ['gencert', '-ca=ours-ca.pem', '-ca-key=ours-ca-key.pem', '-config=ca-config.json', '-profile=peer', '-hostname=10.93.81.17,127.0.0.1,server,member1', '-'], dir, LEAF);
    writeFileSync(path.join(dir, 'ours-member1.pem'), (JSON.parse(leaf) as { cert: string }).cert);
    for (const cert of ['ours-ca.pem', 'ours-member1.pem']) {
      const theirs = JSON.parse(await ok('cfssl', ['certinfo', '-cert', cert], dir)) as Record<string, unknown>;
      const mine = JSON.parse(await ok('etcd-tls', ['certinfo', '-cert', cert], dir)) as Record<string, unknown>;
      for (const k of ['subject', 'issuer', 'serial_number', 'sans', 'not_before', 'not_after', 'sigalg', 'pem']) assert.deepEqual(mine[k], theirs[k], `${cert}: ${k}`);
      // cfssl 1.2.0 prints key IDs without leading zeros ("AE:2:89"); the bytes must agree.
      const unpad = (s: unknown): string => String(s).split(':').map((b) => b.replace(/^0(?=.)/, '')).join(':');
      for (const k of ['authority_key_id', 'subject_key_id']) assert.equal(unpad(mine[k]), unpad(theirs[k]), `${cert}: ${k}`);
    }
    const ca = JSON.parse(await ok('cfssl', ['certinfo', '-cert', 'ours-ca.pem'], dir)) as { subject: { organizational_unit: string } };
    assert.equal(ca.subject.organizational_unit, 'Org Unit 1,Org Unit 2', 'cfssl sees both OUs of our CA');
  });

  test('cfssl certinfo -csr agrees with ours on a CSR we made', async (t) => {
    if (!requireAll(t)) return;
    const out = JSON.parse(await ok('etcd-tls', ['genkey', '-'], dir, '{"CN":"x","hosts":["a.example","10.0.0.1","m@example.com"],"names":[{"O":"A","OU":["u1","u2"]}]}')) as { csr: string };
    writeFileSync(path.join(dir, 'ours.csr'), out.csr);
    const theirs = JSON.parse(await ok('cfssl', ['certinfo', '-csr', 'ours.csr'], dir)) as unknown;
    const mine = JSON.parse(await ok('etcd-tls', ['certinfo', '-csr', 'ours.csr'], dir)) as unknown;
    assert.deepEqual(mine, theirs);
  });
});

describe('signing across the two tools', () => {
  test('cfssl gencert signs with a CA we made; openssl verify passes', async (t) => {
    if (!requireAll(t)) return;
    const out = await ok('cfssl', ['gencert', '-ca=ours-ca.pem', '-ca-key=ours-ca-key.pem', '-config=ca-config.json', '-profile=server', '-hostname=127.0.0.1', '-'], dir, LEAF);
    await ok('cfssljson', ['-bare', 'cfssl-by-ours'], dir, out);
    await verify(dir, 'ours-ca.pem', 'cfssl-by-ours.pem');
  });

  test('our gencert and our sign sign with a CA cfssl made; openssl verify passes', async (t) => {
    if (!requireAll(t)) return;
    const gen = await ok('etcd-tls', ['gencert', '-ca=cfssl-ca.pem', '-ca-key=cfssl-ca-key.pem', '-config=ca-config.json', '-profile=client', '-'], dir, LEAF);
    await ok('etcd-tls', ['json', '-bare', 'ours-by-cfssl'], dir, gen);
    await verify(dir, 'cfssl-ca.pem', 'ours-by-cfssl.pem');

    await ok('cfssljson', ['-bare', 'cfssl-key'], dir, await ok('cfssl', ['genkey', '-'], dir, LEAF));
    const signed = await ok('etcd-tls', ['sign', '-ca', 'cfssl-ca.pem', '-ca-key', 'cfssl-ca-key.pem', '-config', 'ca-config.json', '-profile', 'peer', 'cfssl-key.csr'], dir);
    await ok('etcd-tls', ['json', '-bare', 'signed-by-ours'], dir, signed);
    await verify(dir, 'cfssl-ca.pem', 'signed-by-ours.pem');
    // Our certificate names cfssl's CA exactly as cfssl does.
    const issuer = JSON.parse(await ok('cfssl', ['certinfo', '-cert', 'signed-by-ours.pem'], dir)) as { issuer: unknown };
    const caSubject = JSON.parse(await ok('cfssl', ['certinfo', '-cert', 'cfssl-ca.pem'], dir)) as { subject: unknown };
    assert.deepEqual(issuer.issuer, caSubject.subject);
  });

  test('we re-issue a CA cfssl made from its key (-initca -ca-key), as cfssl does', async (t) => {
    if (!requireAll(t)) return;
    const ours = JSON.parse(await ok('etcd-tls', ['gencert', '-initca', '-ca-key=cfssl-ca-key.pem', 'ca-csr.json'], dir)) as Record<string, string>;
    const theirs = JSON.parse(await ok('cfssl', ['gencert', '-initca', '-ca-key=cfssl-ca-key.pem', 'ca-csr.json'], dir)) as Record<string, string>;
    assert.deepEqual(Object.keys(ours), Object.keys(theirs));
    writeFileSync(path.join(dir, 'reissued.pem'), ours.cert ?? '');
    const a = await run('openssl', ['x509', '-in', 'reissued.pem', '-noout', '-pubkey'], { cwd: dir });
    const b = await run('openssl', ['x509', '-in', 'cfssl-ca.pem', '-noout', '-pubkey'], { cwd: dir });
    assert.equal(a.stdout, b.stdout);
  });
});

describe('outputs meant to be identical', () => {
  for (const kind of ['config', 'csr']) {
    test(`print-defaults ${kind} equals cfssl print-defaults ${kind} byte for byte`, async (t) => {
      if (!requireAll(t)) return;
      const theirs = await run('cfssl', ['print-defaults', kind]);
      assert.equal((await etcdTls(['print-defaults', kind])).stdout, theirs.stdout);
    });
  }

  test('print-defaults list names the same types (cfssl lists them in Go map order, which varies)', async (t) => {
    if (!requireAll(t)) return;
    const lines = (s: string): string[] => s.split('\n').sort();
    assert.deepEqual(lines((await etcdTls(['print-defaults', 'list'])).stdout), lines((await run('cfssl', ['print-defaults', 'list'])).stdout));
  });

  test('json writes the same file names and modes as cfssljson for the same input', async (t) => {
    if (!requireAll(t)) return;
    const inputs = {
      gencert: await ok('etcd-tls', ['gencert', '-ca=ours-ca.pem', '-ca-key=ours-ca-key.pem', '-hostname=127.0.0.1', '-'], dir, LEAF),
      sign: await ok('etcd-tls', ['sign', '-ca=ours-ca.pem', '-ca-key=ours-ca-key.pem', path.join(FIXTURES, 'csr-fixture.csr')], dir),
      genkey: await ok('etcd-tls', ['genkey', '-'], dir, LEAF),
      envelope: JSON.stringify({ success: true, result: { certificate: (JSON.parse(await ok('etcd-tls', ['genkey', '-initca', '-'], dir, '{"CN":"x"}')) as { cert: string }).cert }, errors: [], messages: [] }),
    };
    for (const [name, input] of Object.entries(inputs)) {
      const theirs = path.join(dir, `cfssljson-${name}`);
      const mine = path.join(dir, `json-${name}`);
      mkdirSync(theirs);
      mkdirSync(mine);
      const bare = name === 'envelope' ? [] : ['-bare'];
      const a = await run('cfssljson', [...bare, 'out'], { cwd: theirs, stdin: input });
      assert.equal(a.code, 0, a.stderr);
      await ok('etcd-tls', ['json', ...bare, 'out'], mine, input);
      const listing = (d: string): string[] => readdirSync(d).sort().map((f) => `${f} ${(statSync(path.join(d, f)).mode & 0o777).toString(8)}`);
      assert.deepEqual(listing(mine), listing(theirs), name);
      for (const f of readdirSync(theirs)) assert.equal(readFileSync(path.join(mine, f), 'utf8'), readFileSync(path.join(theirs, f), 'utf8'), `${name}: ${f}`);
    }
  });

  test('json -stdout prints what cfssljson -stdout prints', async (t) => {
    if (!requireAll(t)) return;
    const input = await ok('etcd-tls', ['genkey', '-initca', '-'], dir, '{"CN":"x"}');
    const theirs = await run('cfssljson', ['-bare', '-stdout'], { cwd: dir, stdin: input });
    assert.equal((await etcdTls(['json', '-bare', '-stdout'], { cwd: dir, stdin: input })).stdout, theirs.stdout);
  });
});

describe('sign orders the subject as cfssl 1.2.0 does', () => {
  test('a CSR subject CN, O, C, OU comes out C, O, OU, CN from both tools', async (t) => {
    if (!requireAll(t)) return;
    const dir = await makeTempDir(t, 'rdn-order-');
    const ca = await etcdTls(['gencert', '-initca', '-'], { cwd: dir, stdin: '{"CN":"order CA"}' });
    assert.equal(ca.code, 0, ca.stderr);
    const { cert, key } = JSON.parse(ca.stdout) as { cert: string; key: string };
    writeFileSync(path.join(dir, 'ca.pem'), cert);
    writeFileSync(path.join(dir, 'ca-key.pem'), key);
    const req = await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'k.pem', '-subj', '/CN=x/O=y/C=US/OU=z', '-out', 'order.csr'], { cwd: dir });
    assert.equal(req.code, 0, req.stderr);
    const subjectOf = async (signer: () => Promise<{ code: number | null; stdout: string; stderr: string }>): Promise<string> => {
      const r = await signer();
      assert.equal(r.code, 0, r.stderr);
      const pem = (JSON.parse(r.stdout) as { cert: string }).cert;
      const x = await run('openssl', ['x509', '-noout', '-subject', '-nameopt', 'RFC2253'], { stdin: pem });
      return x.stdout.trim();
    };
    const ours = await subjectOf(() => etcdTls(['sign', '-ca', 'ca.pem', '-ca-key', 'ca-key.pem', 'order.csr'], { cwd: dir }));
    const theirs = await subjectOf(() => run('cfssl', ['sign', '-ca', 'ca.pem', '-ca-key', 'ca-key.pem', 'order.csr'], { cwd: dir }));
    assert.equal(ours, theirs);
    assert.equal(ours, 'subject=CN=x,OU=z,O=y,C=US'); // RFC 2253 prints the last RDN first
  });
});
