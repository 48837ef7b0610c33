// openssl, an independent implementation, judges every kind of certificate the cfssl-compatible
// commands issue: `openssl verify -x509_strict` must pass and `openssl x509 -text` must show the
// extensions each profile promises. Everything is made through the real CLI, as a user would.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { etcdTls, findBinary, REPO_ROOT, requireBinary, run } from '../helpers/components.js';
import { makeTempDir } from '../helpers/tmp.js';

const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'cfssl');

async function openssl(args: string[], cwd: string, stdin?: string): Promise<string> {
  const r = await run('openssl', args, { cwd, ...(stdin !== undefined ? { stdin } : {}) });
  assert.equal(r.code, 0, `openssl ${args.join(' ')}:\n${r.stderr}`);
  return r.stdout;
}

/** `gencert ... | json -bare NAME` inside dir, as two processes like the blog's pipeline. */
async function issue(dir: string, name: string, args: string[], csrJson: string): Promise<void> {
  const gen = await etcdTls(['gencert', ...args, '-'], { cwd: dir, stdin: csrJson });
  assert.equal(gen.code, 0, `gencert ${args.join(' ')}: ${gen.stderr}`);
  const json = await etcdTls(['json', '-bare', name], { cwd: dir, stdin: gen.stdout });
  assert.equal(json.code, 0, json.stderr);
}

/** The text of one extension in `openssl x509 -text` output: its header line and its value lines. */
function extension(text: string, name: string): { critical: boolean; value: string } | undefined {
  const m = new RegExp(`^ +X509v3 ${name}:( critical)? *\\n((?: {16}.*\\n)+)`, 'm').exec(text);
  return m ? { critical: Boolean(m[1]), value: (m[2] as string).trim() } : undefined;
}

let dir = '';
let available = false;
before(async () => {
  available = findBinary('openssl') !== null;
  if (!available) return;
  dir = await makeTempDir('file', 'interop-openssl-');
  copyFileSync(path.join(FIXTURES, 'ca-config.json'), path.join(dir, 'ca-config.json'));
  copyFileSync(path.join(FIXTURES, 'ca-csr.json'), path.join(dir, 'ca-csr.json'));
  const ca = await etcdTls(['gencert', '-initca', 'ca-csr.json'], { cwd: dir });
  assert.equal(ca.code, 0, ca.stderr);
  assert.equal((await etcdTls(['json', '-bare', 'ca'], { cwd: dir, stdin: ca.stdout })).code, 0);
  const leaf = (cn: string): string => JSON.stringify({ CN: cn, hosts: ['127.0.0.1'], key: { algo: 'rsa', size: 2048 } });
  const blog = ['-ca=ca.pem', '-ca-key=ca-key.pem', '-config=ca-config.json'];
  await issue(dir, 'server', [...blog, '-profile=server', '-hostname=10.93.81.17,127.0.0.1,server'], leaf('coreos1'));
  await issue(dir, 'member1', [...blog, '-profile=peer', '-hostname=10.93.81.17,127.0.0.1,server,member1'], leaf('member1'));
  await issue(dir, 'client', [...blog, '-profile=client'], leaf('client'));
});

describe("the blog's certificates pass openssl", () => {
  test('the CA: self-signed, both OUs, CA:TRUE and certSign+cRLSign critical, SKI, no EKU or SAN', async (t) => {
    if (!requireBinary(t, 'openssl') || !available) return;
    const text = await openssl(['x509', '-in', 'ca.pem', '-noout', '-text', '-nameopt', 'RFC2253'], dir);
    assert.match(text, /Subject: CN=My own CA,OU=Org Unit 2,OU=Org Unit 1,O=My Company Name,L=CA,ST=San Francisco,C=US\n/);
    assert.deepEqual(extension(text, 'Basic Constraints'), { critical: true, value: 'CA:TRUE' });
    assert.deepEqual(extension(text, 'Key Usage'), { critical: true, value: 'Certificate Sign, CRL Sign' });
    assert.match(extension(text, 'Subject Key Identifier')?.value ?? '', /^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
    assert.equal(extension(text, 'Extended Key Usage'), undefined);
    assert.equal(extension(text, 'Subject Alternative Name'), undefined);
    assert.match(await openssl(['verify', '-x509_strict', '-CAfile', 'ca.pem', 'ca.pem'], dir), /ca\.pem: OK/);
  });

  const profiles: [name: string, eku: string, san: string][] = [
    ['server', 'TLS Web Server Authentication', 'DNS:server, IP Address:10.93.81.17, IP Address:127.0.0.1'],
    ['member1', 'TLS Web Server Authentication, TLS Web Client Authentication', 'DNS:server, DNS:member1, IP Address:10.93.81.17, IP Address:127.0.0.1'],
    ['client', 'TLS Web Client Authentication', 'IP Address:127.0.0.1'],
  ];
  for (const [name, eku, san] of profiles) {
    test(`${name}: verify -x509_strict passes; KU critical, EKU, BC critical CA:FALSE, SKI, AKI = CA SKI, SANs`, async (t) => {
      if (!requireBinary(t, 'openssl') || !available) return;
      assert.match(await openssl(['verify', '-x509_strict', '-CAfile', 'ca.pem', `${name}.pem`], dir), new RegExp(`${name}\\.pem: OK`));
      const text = await openssl(['x509', '-in', `${name}.pem`, '-noout', '-text'], dir);
      const caText = await openssl(['x509', '-in', 'ca.pem', '-noout', '-text'], dir);
      assert.deepEqual(extension(text, 'Key Usage'), { critical: true, value: 'Digital Signature, Key Encipherment' });
      assert.deepEqual(extension(text, 'Extended Key Usage'), { critical: false, value: eku });
      assert.deepEqual(extension(text, 'Basic Constraints'), { critical: true, value: 'CA:FALSE' });
      assert.ok(extension(text, 'Subject Key Identifier'));
      assert.equal(extension(text, 'Authority Key Identifier')?.value.replace(/^keyid:/, ''), extension(caText, 'Subject Key Identifier')?.value);
      assert.deepEqual(extension(text, 'Subject Alternative Name'), { critical: false, value: san });
      // The key file holds the certificate's key, and the CSR verifies.
      const certKey = await openssl(['x509', '-in', `${name}.pem`, '-noout', '-pubkey'], dir);
      assert.equal(await openssl(['pkey', '-in', `${name}-key.pem`, '-pubout'], dir), certKey);
      await openssl(['req', '-in', `${name}.csr`, '-noout', '-verify'], dir);
    });
  }

  test('the client certificate is not a server certificate, and the server one not a client one', async (t) => {
    if (!requireBinary(t, 'openssl') || !available) return;
    const asServer = await run('openssl', ['verify', '-purpose', 'sslserver', '-CAfile', 'ca.pem', 'client.pem'], { cwd: dir });
    assert.notEqual(asServer.code, 0);
    const asClient = await run('openssl', ['verify', '-purpose', 'sslclient', '-CAfile', 'ca.pem', 'server.pem'], { cwd: dir });
    assert.notEqual(asClient.code, 0);
  });
});

describe('every key type: a CA of that type and a leaf under it pass openssl', { concurrency: 2 }, () => {
  const keys: [label: string, key: object, sigalg: RegExp, keyLabel: string][] = [
    ['RSA 2048', { algo: 'rsa', size: 2048 }, /sha256WithRSAEncryption/, 'RSA PRIVATE KEY'],
    ['RSA 3072', { algo: 'rsa', size: 3072 }, /sha384WithRSAEncryption/, 'RSA PRIVATE KEY'],
    ['RSA 4096', { algo: 'rsa', size: 4096 }, /sha512WithRSAEncryption/, 'RSA PRIVATE KEY'],
    ['ECDSA P-256', { algo: 'ecdsa', size: 256 }, /ecdsa-with-SHA256/, 'EC PRIVATE KEY'],
    ['ECDSA P-384', { algo: 'ecdsa', size: 384 }, /ecdsa-with-SHA384/, 'EC PRIVATE KEY'],
    ['ECDSA P-521', { algo: 'ecdsa', size: 521 }, /ecdsa-with-SHA512/, 'EC PRIVATE KEY'],
    ['Ed25519', { algo: 'ed25519' }, /ED25519/, 'PRIVATE KEY'],
  ];
  for (const [label, key, sigalg, keyLabel] of keys) {
    test(label, async (t) => {
      if (!requireBinary(t, 'openssl')) return;
      const d = await makeTempDir(t, 'interop-key-');
      const ca = await etcdTls(['gencert', '-initca', '-'], { cwd: d, stdin: JSON.stringify({ CN: `${label} CA`, key, ca: { pathlen: 0, pathlenzero: true } }) });
      assert.equal(ca.code, 0, ca.stderr);
      assert.equal((await etcdTls(['json', '-bare', 'ca'], { cwd: d, stdin: ca.stdout })).code, 0);
      await issue(d, 'leaf', ['-ca', 'ca.pem', '-ca-key', 'ca-key.pem', '-hostname', 'etcd.example,127.0.0.1'], JSON.stringify({ CN: label, key }));
      assert.match(readFileSync(path.join(d, 'leaf-key.pem'), 'utf8'), new RegExp(`^-----BEGIN ${keyLabel}-----\\n`));
      assert.match(await openssl(['verify', '-x509_strict', '-CAfile', 'ca.pem', 'ca.pem', 'leaf.pem'], d), /ca\.pem: OK\nleaf\.pem: OK/);
      const caText = await openssl(['x509', '-in', 'ca.pem', '-noout', '-text'], d);
      assert.match(caText, sigalg);
      assert.deepEqual(extension(caText, 'Basic Constraints'), { critical: true, value: 'CA:TRUE, pathlen:0' });
      const leafText = await openssl(['x509', '-in', 'leaf.pem', '-noout', '-text'], d);
      assert.match(leafText, sigalg);
      assert.deepEqual(extension(leafText, 'Extended Key Usage'), { critical: false, value: 'TLS Web Server Authentication, TLS Web Client Authentication' });
      assert.equal(extension(leafText, 'Subject Alternative Name')?.value, 'DNS:etcd.example, IP Address:127.0.0.1');
      await openssl(['pkey', '-in', 'leaf-key.pem', '-check', '-noout'], d).catch(async () => {
        // Ed25519 keys have no consistency check in openssl; parsing them is the check.
        await openssl(['pkey', '-in', 'leaf-key.pem', '-noout'], d);
      });
    });
  }
});

describe('sign and selfsign pass openssl', () => {
  test('sign: an openssl-made CSR signed by our CA verifies; selfsign verifies against itself', async (t) => {
    if (!requireBinary(t, 'openssl') || !available) return;
    const signed = await etcdTls(['sign', '-ca', 'ca.pem', '-ca-key', 'ca-key.pem', '-config', 'ca-config.json', '-profile', 'peer', path.join(FIXTURES, 'csr-fixture.csr')], { cwd: dir });
    assert.equal(signed.code, 0, signed.stderr);
    writeFileSync(path.join(dir, 'signed.pem'), (JSON.parse(signed.stdout) as { cert: string }).cert);
    assert.match(await openssl(['verify', '-x509_strict', '-CAfile', 'ca.pem', 'signed.pem'], dir), /signed\.pem: OK/);

    const self = await etcdTls(['selfsign', 'localhost,127.0.0.1', '-'], { cwd: dir, stdin: '{"CN":"self"}' });
    assert.equal(self.code, 0, self.stderr);
    writeFileSync(path.join(dir, 'self.pem'), (JSON.parse(self.stdout) as { cert: string }).cert);
    // A self-signed leaf is its own trust anchor only when openssl is told to accept a partial chain.
    assert.match(await openssl(['verify', '-x509_strict', '-partial_chain', '-CAfile', 'self.pem', 'self.pem'], dir), /self\.pem: OK/);
  });
});
